#include "input_options.h"

namespace facemix::cli {

CLI::Option* add_max_pixels_option(CLI::App& cmd, std::int64_t& max_pixels) {
  return cmd.add_option("--max-pixels", max_pixels, "Refuse input images with more pixels than this")
      ->check(CLI::PositiveNumber);
}

CLI::Option* add_landmarks_model_option(CLI::App& cmd, std::string& path) {
  return cmd.add_option("--landmarks-model", path,
                        "dlib 68-point shape predictor (default: $FACEMIX_LANDMARKS, then "
                        "/usr/share/dlib/shape_predictor_68_face_landmarks.dat)");
}

CLI::Option* add_identity_model_option(CLI::App& cmd, std::string& path) {
  return cmd.add_option("--identity-model", path,
                        "Face recognition model (default: $FACEMIX_IDENTITY_MODEL, then the models/ directories, "
                        "where facemix ships one)");
}

}  // namespace facemix::cli
