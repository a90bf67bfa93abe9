"""Makes a safetensors header lie about one tensor, keeping the header's length (padded with spaces,
as the format allows), so only the lie itself is wrong.

usage: edit_safetensors_header.py FILE TENSOR offsets|shape
  offsets: the tensor's data_offsets end moves 1 GB past the end of the file
  shape:   the tensor's first dimension grows by one, so dtype x shape no longer fits data_offsets
"""
import json
import struct
import sys


def main(path, tensor, lie):
    with open(path, "r+b") as stream:
        (length,) = struct.unpack("<Q", stream.read(8))
        header = json.loads(stream.read(length))
        entry = header[tensor]
        if lie == "offsets":
            entry["data_offsets"][1] += 10**9
        elif lie == "shape":
            entry["shape"][0] += 1
        else:
            sys.exit(f"unknown lie {lie}")
        text = json.dumps(header, separators=(",", ":")).encode()
        if len(text) > length:
            sys.exit(f"{path}: the edited header does not fit in {length} bytes")
        stream.seek(8)
        stream.write(text + b" " * (length - len(text)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
