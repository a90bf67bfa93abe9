#pragma once
// Boost.Serialization's binary input archive, with every count checked before it is used. The
// plain archive takes a collection's element count and a string's length from the bytes and
// allocates that much (a vector is resized, touching every page) before it reads an element: a
// damaged or hostile resume state, or a corrupted message, could ask for terabytes. Here no count
// may exceed the bytes the archive was given (every element takes at least one byte), and an
// oversized one is an archive_exception like any other malformed input. So is a bool stored as
// another byte than 0 or 1.
#include <cstdint>
#include <istream>
#include <string>

#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/detail/register_archive.hpp>
#include <boost/serialization/collection_size_type.hpp>

namespace lineage {

class bounded_iarchive
    : public boost::archive::binary_iarchive_impl<bounded_iarchive, std::istream::char_type, std::istream::traits_type> {
  using impl = boost::archive::binary_iarchive_impl<bounded_iarchive, std::istream::char_type, std::istream::traits_type>;
  friend class boost::archive::detail::interface_iarchive<bounded_iarchive>;
  friend class boost::archive::basic_binary_iarchive<bounded_iarchive>;
  friend class boost::archive::basic_binary_iprimitive<bounded_iarchive, std::istream::char_type, std::istream::traits_type>;
  friend class boost::archive::load_access;

 public:
  // Reads from `buffer`, which holds `bytes` bytes (the bound of every count), without a header.
  bounded_iarchive(std::streambuf& buffer, std::uint64_t bytes);

 protected:
  template <class T>
  void load_override(T& t) {
    impl::load_override(t);
  }
  void load_override(boost::serialization::collection_size_type& count);

  using impl::load;
  void load(std::string& text);
  // A bool from any other byte than 0 or 1 is undefined behaviour: such a byte is malformed input.
  void load(bool& value);

 private:
  void check(std::uint64_t count, const char* what) const;
  std::uint64_t bytes_;
};

}  // namespace lineage

BOOST_SERIALIZATION_REGISTER_ARCHIVE(lineage::bounded_iarchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(lineage::bounded_iarchive)
