#pragma once
// The seal of a report.h5: its first 512 bytes are an HDF5 user block (which libhdf5 and h5py skip)
// holding a line "lineage report seal 1 sha256 <hex>" over every byte after the block. A reader
// checks the seal on the bytes it has read before libhdf5 parses any of them, so a damaged or
// altered file is one error line, not a walk through corrupt heap addresses inside libhdf5 (which
// can crash it). Tools that rewrite a report (h5py in "r+" mode) break the seal on purpose: the
// report is no longer what lineage wrote.
#include <cstddef>
#include <string>
#include <string_view>

namespace lineage {

// Bytes of the user block reserved at the start of every report.h5 (a power of two ≥ 512).
inline constexpr std::size_t h5_seal_bytes = 512;

// Puts the seal block in front of `image`, an HDF5 file image created with a user block of
// h5_seal_bytes (whose superblock says so; the in-memory image itself starts at the superblock).
void seal_h5_image(std::string& image);

// The HDF5 image inside `file` (what follows the seal block). Throws input_error naming `label`
// unless `file` starts with a seal that matches those bytes.
[[nodiscard]] std::string_view check_h5_seal(std::string_view file, const std::string& label);

}  // namespace lineage
