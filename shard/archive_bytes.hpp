#pragma once
// A serializable value as the bytes of Boost's binary archive (no header), and back through the
// bounded archive: messages between ranks and resume state are read with every count checked.
#include <boost/archive/binary_oarchive.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/stream.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <vector>

#include "shard/bounded_archive.hpp"

namespace lineage {

template <typename T>
std::vector<char> to_bytes(const T& value) {
  std::vector<char> bytes;
  {
    boost::iostreams::stream<boost::iostreams::back_insert_device<std::vector<char>>> out(bytes);
    boost::archive::binary_oarchive archive(out, boost::archive::no_header);
    archive << value;
  }
  return bytes;
}

template <typename T>
T from_bytes(const std::vector<char>& bytes) {
  boost::iostreams::stream<boost::iostreams::array_source> in(bytes.data(), bytes.size());
  bounded_iarchive archive(*in.rdbuf(), bytes.size());
  T value;
  archive >> value;
  return value;
}

}  // namespace lineage
