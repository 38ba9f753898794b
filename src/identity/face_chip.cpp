// Face chips for the identity network (and where they lie) and batched descriptors.
#include <dlib/image_processing.h>
#include <dlib/image_transforms.h>
#include <dlib/opencv.h>

#include <torch/torch.h>

#include "facemix/errors.h"
#include "facemix/identity.h"
#include "facemix/identity_chip.h"

namespace facemix {

namespace {

// dlib's chip for the 68 landmarks; dlib's landmarks are whole pixels.
dlib::chip_details chip_details_for(const Landmarks& landmarks) {
  std::vector<dlib::point> parts;
  parts.reserve(landmarks.size());
  double left = 1e300, top = 1e300, right = -1e300, bottom = -1e300;
  for (const auto& p : landmarks) {
    parts.emplace_back(static_cast<long>(std::lround(p.x)), static_cast<long>(std::lround(p.y)));
    left = std::min(left, p.x), right = std::max(right, p.x);
    top = std::min(top, p.y), bottom = std::max(bottom, p.y);
  }
  // The box is not used for 68-point chips.
  const dlib::rectangle box(static_cast<long>(left), static_cast<long>(top), static_cast<long>(right),
                            static_cast<long>(bottom));
  const dlib::full_object_detection shape(box, parts);
  return dlib::get_face_chip_details(shape, kIdentityChipSize, kIdentityChipPadding);
}

}  // namespace

ChipPlacement chip_placement(const Landmarks& landmarks, int frame_size) {
  if (frame_size < 1) throw Error("chip_placement: frame size must be positive");
  const dlib::chip_details details = chip_details_for(landmarks);
  const dlib::point_transform_affine to_frame = dlib::inv(dlib::get_mapping_to_chip(details));
  const dlib::matrix<double, 2, 2> m = to_frame.get_m();
  const dlib::vector<double, 2> b = to_frame.get_b();
  ChipPlacement p;
  p.frame_size = frame_size;
  p.chip_to_frame = {m(0, 0), m(0, 1), b.x(), m(1, 0), m(1, 1), b.y()};
  p.frame_pixels_per_chip_pixel = std::sqrt(std::abs(m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0)));
  return p;
}

cv::Mat face_chip(const cv::Mat& image, const Landmarks& landmarks) {
  if (image.type() != CV_8UC3) throw Error("face_chip: image must be CV_8UC3");
  const dlib::chip_details details = chip_details_for(landmarks);
  const dlib::cv_image<dlib::bgr_pixel> source(image);
  dlib::matrix<dlib::bgr_pixel> chip;
  dlib::extract_image_chip(source, details, chip);
  cv::Mat out(kIdentityChipSize, kIdentityChipSize, CV_8UC3);
  for (int y = 0; y < kIdentityChipSize; ++y)
    for (int x = 0; x < kIdentityChipSize; ++x) {
      const dlib::bgr_pixel& p = chip(y, x);
      out.at<cv::Vec3b>(y, x) = cv::Vec3b(p.blue, p.green, p.red);
    }
  return out;
}

torch::Tensor chips_to_tensor(const std::vector<cv::Mat>& chips) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(chips.size()), 3, kIdentityChipSize, kIdentityChipSize});
  for (std::size_t i = 0; i < chips.size(); ++i) {
    const cv::Mat& c = chips[i];
    if (c.type() != CV_8UC3 || c.rows != kIdentityChipSize || c.cols != kIdentityChipSize)
      throw Error("identity: chips must be 150x150 CV_8UC3");
    cv::Mat contiguous = c.isContinuous() ? c : c.clone();
    torch::Tensor hwc = torch::from_blob(contiguous.data, {kIdentityChipSize, kIdentityChipSize, 3}, torch::kUInt8);
    t[static_cast<int64_t>(i)] = hwc.flip({2}).permute({2, 0, 1}).to(torch::kFloat32);  // BGR -> RGB, CHW
  }
  return t;
}

std::vector<Descriptor> describe_chips(const IdentityModel& model, const std::vector<cv::Mat>& chips) {
  constexpr std::size_t kBatch = 16;
  std::vector<Descriptor> out;
  out.reserve(chips.size());
  c10::InferenceMode guard;
  for (std::size_t start = 0; start < chips.size(); start += kBatch) {
    const std::vector<cv::Mat> part(chips.begin() + static_cast<long>(start),
                                    chips.begin() + static_cast<long>(std::min(chips.size(), start + kBatch)));
    const torch::Tensor d = model.net->forward(chips_to_tensor(part)).contiguous();
    const float* p = d.data_ptr<float>();
    for (std::size_t i = 0; i < part.size(); ++i) {
      Descriptor desc;
      std::copy(p + i * kDescriptorSize, p + (i + 1) * kDescriptorSize, desc.begin());
      out.push_back(desc);
    }
  }
  return out;
}

Descriptor describe_face(const IdentityModel& model, const cv::Mat& image, const Landmarks& landmarks) {
  return describe_chips(model, {face_chip(image, landmarks)}).front();
}

}  // namespace facemix
