// dlib's own face recognition network type, to read and write
// dlib_face_recognition_resnet_model_v1.dat with dlib's (de)serialiser and to
// compute reference descriptors with dlib's code.
//
// The parameterised layers, listed from the input up, are: the 7x7 conv and its
// affine layer, then per residual block conv1, affine, conv2, affine, then the
// final fc. That is exactly the registration order of IdentityNet's parameters
// (conv weight, conv bias, scale weight, scale bias, ..., fc.weight), so the two
// are matched by position and checked by shape.
#include <dlib/dnn.h>
#include <dlib/opencv.h>

#include <algorithm>
#include <fstream>

#include <torch/torch.h>

#include "facemix/errors.h"
#include "facemix/identity.h"
#include "facemix/output.h"
#include "identity/loading.h"

namespace facemix::identity {
namespace {

// The block structure dlib's face recognition example defines (a fact about the
// trained file's type, which deserialisation must match exactly).
template <int N, template <typename> class BN, int stride, typename SUBNET>
using conv_pair = BN<dlib::con<N, 3, 3, 1, 1, dlib::relu<BN<dlib::con<N, 3, 3, stride, stride, SUBNET>>>>>;
template <int N, typename SUBNET>
using res = dlib::relu<dlib::add_prev1<conv_pair<N, dlib::affine, 1, dlib::tag1<SUBNET>>>>;
template <int N, typename SUBNET>
using res_down = dlib::relu<dlib::add_prev2<dlib::avg_pool<
    2, 2, 2, 2, dlib::skip1<dlib::tag2<conv_pair<N, dlib::affine, 2, dlib::tag1<SUBNET>>>>>>>;
template <typename SUBNET> using level256_out = res_down<256, SUBNET>;
template <typename SUBNET> using level256 = res<256, res<256, res_down<256, SUBNET>>>;
template <typename SUBNET> using level128 = res<128, res<128, res_down<128, SUBNET>>>;
template <typename SUBNET> using level64 = res<64, res<64, res<64, res_down<64, SUBNET>>>>;
template <typename SUBNET> using level32 = res<32, res<32, res<32, SUBNET>>>;
using DlibFaceNet = dlib::loss_metric<dlib::fc_no_bias<
    128, dlib::avg_pool_everything<level256_out<level256<level128<level64<level32<dlib::max_pool<
             3, 3, 2, 2, dlib::relu<dlib::affine<dlib::con<32, 7, 7, 2, 2, dlib::input_rgb_image_sized<150>>>>>>>>>>>>>;

// One parameter tensor of the dlib net, as a (pointer, size, shape) view.
struct ParamView {
  float* data;
  std::size_t size;
  std::vector<int64_t> shape;  // IdentityNet layout
  bool transposed_fc = false;  // dlib stores fc as [in, out]
};

// Collects the parameter views of every con_, affine_ and fc_ layer; dlib
// visits from the output down, so the list is reversed to input order.
struct ParamCollector {
  std::vector<std::vector<ParamView>> per_layer;

  template <long nf, long nr, long nc, int sy, int sx, int py, int px>
  void operator()(dlib::con_<nf, nr, nc, sy, sx, py, px>& l) {
    dlib::tensor& p = l.get_layer_params();
    const long k = static_cast<long>(p.size()) / nf - 1;  // input channels * nr * nc, then one bias each
    const int64_t in = k / (nr * nc);
    per_layer.push_back({{p.host(), static_cast<std::size_t>(nf * k), {nf, in, nr, nc}},
                         {p.host() + nf * k, static_cast<std::size_t>(nf), {nf}}});
  }
  void operator()(dlib::affine_& l) {
    auto g = l.get_gamma();
    auto b = l.get_beta();
    const int64_t n = static_cast<int64_t>(g.size());
    per_layer.push_back({{g.host(), g.size(), {n}}, {b.host(), b.size(), {n}}});
  }
  template <unsigned long n, dlib::fc_bias_mode mode>
  void operator()(dlib::fc_<n, mode>& l) {
    dlib::tensor& p = l.get_layer_params();
    const int64_t in = static_cast<int64_t>(p.size() / n);
    per_layer.push_back({{p.host(), p.size(), {static_cast<int64_t>(n), in}, true}});
  }

  template <typename Layer>
  void operator()(Layer&) {}  // relu, pooling, add_prev, ...: no parameters

  std::vector<ParamView> in_input_order() const {
    std::vector<ParamView> out;
    for (auto it = per_layer.rbegin(); it != per_layer.rend(); ++it) out.insert(out.end(), it->begin(), it->end());
    return out;
  }
};

std::vector<ParamView> parameter_views(DlibFaceNet& net) {
  ParamCollector c;
  dlib::visit_computational_layers(net, [&c](auto& layer) { c(layer); });
  return c.in_input_order();
}

dlib::matrix<dlib::rgb_pixel> to_dlib_chip(const cv::Mat& chip) {
  if (chip.type() != CV_8UC3 || chip.rows != kIdentityChipSize || chip.cols != kIdentityChipSize)
    throw Error("identity: chips must be 150x150 CV_8UC3");
  dlib::matrix<dlib::rgb_pixel> m(chip.rows, chip.cols);
  for (int y = 0; y < chip.rows; ++y)
    for (int x = 0; x < chip.cols; ++x) {
      const auto& p = chip.at<cv::Vec3b>(y, x);
      m(y, x) = dlib::rgb_pixel(p[2], p[1], p[0]);
    }
  return m;
}

DlibFaceNet read_dat(const std::string& path) {
  DlibFaceNet net;
  try {
    dlib::deserialize(path) >> net;
  } catch (const std::exception& e) {
    std::string why = e.what();
    why.erase(std::remove(why.begin(), why.end(), '\n'), why.end());
    throw ModelError(path + ": not a dlib face recognition network (" + why + ")");
  }
  return net;
}

}  // namespace

IdentityModel load_dlib_dat(const std::string& path) {
  DlibFaceNet net = read_dat(path);
  const std::vector<ParamView> views = parameter_views(net);
  IdentityNet shape_source;
  const auto names = shape_source->named_parameters();
  if (views.size() != names.size())
    throw ModelError(path + ": dlib network has " + std::to_string(views.size()) + " parameter tensors, expected " +
                     std::to_string(names.size()));
  std::map<std::string, torch::Tensor> tensors;
  for (std::size_t i = 0; i < views.size(); ++i) {
    const ParamView& v = views[i];
    if (v.data == nullptr || v.size == 0) throw ModelError(path + ": dlib network has an empty parameter tensor");
    torch::Tensor t = torch::from_blob(v.data, {static_cast<int64_t>(v.size)}, torch::kFloat32).clone();
    if (v.transposed_fc) {
      t = t.view({v.shape[1], v.shape[0]}).t().contiguous();
    } else {
      int64_t numel = 1;
      for (int64_t d : v.shape) numel *= d;
      if (numel != static_cast<int64_t>(v.size)) throw ModelError(path + ": dlib layer of unexpected size");
      t = t.view(v.shape);
    }
    tensors[names[i].key()] = t;
  }
  IdentityNormalisation n;  // dlib's input layer: (RGB - mean) / 256
  const auto& input = dlib::input_layer(net);
  n.mean_rgb = {input.get_avg_red(), input.get_avg_green(), input.get_avg_blue()};
  n.scale = 256.0;
  std::map<std::string, std::string> meta = {{"format", "dlib .dat"}, {"input_scale", "256"}};
  return assemble_identity_model(path, "dlib .dat", tensors, n, meta);
}

void write_dlib_dat(const IdentityModel& model, const std::string& path) {
  DlibFaceNet net;
  dlib::visit_computational_layers(net, [](auto& layer) {
    if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, dlib::affine_>) layer = dlib::affine_(dlib::CONV_MODE);
  });
  // One forward allocates every layer's parameters.
  std::vector<dlib::matrix<dlib::rgb_pixel>> probe(1, dlib::matrix<dlib::rgb_pixel>(kIdentityChipSize, kIdentityChipSize));
  for (auto& p : probe[0]) p = dlib::rgb_pixel(128, 128, 128);
  net(probe);
  auto& input = dlib::input_layer(net);
  const auto& mean = model.net->normalisation().mean_rgb;
  input = dlib::input_rgb_image_sized<150>(static_cast<float>(mean[0]), static_cast<float>(mean[1]),
                                           static_cast<float>(mean[2]));
  const std::vector<ParamView> views = parameter_views(net);
  const auto params = model.net->named_parameters();
  if (views.size() != params.size()) throw Error("identity: dlib network layout differs from IdentityNet");
  for (std::size_t i = 0; i < views.size(); ++i) {
    torch::Tensor t = params[i].value().detach().contiguous();
    if (views[i].transposed_fc) t = t.t().contiguous();
    if (static_cast<std::size_t>(t.numel()) != views[i].size) throw Error("identity: size mismatch writing " + params[i].key());
    std::memcpy(views[i].data, t.data_ptr<float>(), views[i].size * sizeof(float));
  }
  write_file_atomic(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    dlib::serialize(net, out);
    out.flush();
    if (!out) throw IoError(path + ": cannot write the dlib model");
  });
}

std::vector<Descriptor> dlib_reference_descriptors(const std::string& dat_path, const std::vector<cv::Mat>& chips) {
  DlibFaceNet net = read_dat(dat_path);
  std::vector<dlib::matrix<dlib::rgb_pixel>> batch;
  for (const auto& c : chips) batch.push_back(to_dlib_chip(c));
  const std::vector<dlib::matrix<float, 0, 1>> out = net(batch);
  std::vector<Descriptor> result(out.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    for (int k = 0; k < kDescriptorSize; ++k) result[i][k] = out[i](k);
  return result;
}

}  // namespace facemix::identity

namespace facemix {
void save_dlib_identity_model(const IdentityModel& model, const std::string& path) {
  identity::write_dlib_dat(model, path);
}
std::vector<Descriptor> describe_chips_with_dlib(const std::string& dat_path, const std::vector<cv::Mat>& chips) {
  return identity::dlib_reference_descriptors(dat_path, chips);
}
}  // namespace facemix
