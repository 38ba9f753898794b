// Internal: the readers of the three identity model forms hand their tensors,
// already named by IdentityNet keys and in its layout, to assemble_identity_model.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

#include "facemix/identity.h"

namespace facemix::identity {

// Builds the network and copies `tensors` into it.
// throws: ModelError naming `path` for a missing, unexpected or misshaped
//         tensor, or non-finite values.
IdentityModel assemble_identity_model(const std::string& path, const std::string& source_format,
                                      const std::map<std::string, torch::Tensor>& tensors,
                                      const IdentityNormalisation& normalisation,
                                      std::map<std::string, std::string> metadata);

// face-api's tfjs manifest and its shard(s), dequantised and mapped to IdentityNet keys.
IdentityModel load_faceapi_manifest(const std::string& manifest_path);

// dlib's .dat, read with dlib's deserialiser.
IdentityModel load_dlib_dat(const std::string& path);

// The first bytes of a dlib face recognition .dat (dlib's serialised
// loss_metric_ version string) - how load_identity_model recognises one.
bool looks_like_dlib_dat(const std::string& head);

}  // namespace facemix::identity
