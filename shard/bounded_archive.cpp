#include "shard/bounded_archive.hpp"

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>

namespace boost::archive {
template class basic_binary_iprimitive<lineage::bounded_iarchive, std::istream::char_type, std::istream::traits_type>;
template class basic_binary_iarchive<lineage::bounded_iarchive>;
template class binary_iarchive_impl<lineage::bounded_iarchive, std::istream::char_type, std::istream::traits_type>;
template class detail::archive_serializer_map<lineage::bounded_iarchive>;
}  // namespace boost::archive

namespace lineage {

bounded_iarchive::bounded_iarchive(std::streambuf& buffer, std::uint64_t bytes)
    : impl(buffer, boost::archive::no_header), bytes_(bytes) {
  init(boost::archive::no_header);
}

void bounded_iarchive::check(std::uint64_t count, const char* what) const {
  if (count > bytes_)
    throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error, what,
                                            "count larger than the archive");
}

void bounded_iarchive::load_override(boost::serialization::collection_size_type& count) {
  impl::load_override(count);
  const boost::serialization::collection_size_type& read = count;
  check(static_cast<std::uint64_t>(read), "collection");
}

void bounded_iarchive::load(bool& value) {
  unsigned char byte = 0;
  load_binary(&byte, 1);
  if (byte > 1)
    throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error, "bool",
                                            "a byte other than 0 or 1");
  value = byte == 1;
}

void bounded_iarchive::load(std::string& text) {
  std::size_t length = 0;
  impl::load(length);
  check(length, "string");
  text.resize(length);
  if (length != 0) load_binary(text.data(), length);
}

}  // namespace lineage
