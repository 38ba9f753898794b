// Where a paste-back output differs from the photo it was pasted into.
#pragma once

#include <string>

namespace facemix::test {

struct PasteChanges {
  int inside = 0;     // changed pixels within the face region (landmark box + a quarter margin)
  int outside = 0;    // changed pixels anywhere else
  int face_area = 0;  // pixels of the landmark bounding box
};

// requires: both files readable, the same size, a face detectable in `photo`.
// Fails the current test (gtest) when they are not.
PasteChanges paste_changes(const std::string& photo, const std::string& pasted);

}  // namespace facemix::test
