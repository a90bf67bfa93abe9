"""Changes one tensor of a model directory in place (e2e.manifest).

usage: change_tensor.py DIR TENSOR flip|remove
  flip:   XORs one byte in the middle of the tensor's data with 0x01 and prints its offset in the data
  remove: rewrites the safetensors file holding the tensor without it (the other tensors' data moved
          up, offsets rewritten) and drops it from model.safetensors.index.json when there is one
"""
import json
import os
import struct
import sys


def holding_file(directory, tensor):
    for name in sorted(os.listdir(directory)):
        if name.endswith(".safetensors"):
            path = os.path.join(directory, name)
            with open(path, "rb") as stream:
                (length,) = struct.unpack("<Q", stream.read(8))
                header = json.loads(stream.read(length))
            if tensor in header:
                return path, length, header
    sys.exit(f"{directory}: no tensor {tensor}")


def flip(path, length, entry):
    begin, end = entry["data_offsets"]
    at = (begin + end) // 2
    with open(path, "r+b") as stream:
        stream.seek(8 + length + at)
        value = stream.read(1)[0]
        stream.seek(8 + length + at)
        stream.write(bytes([value ^ 0x01]))
    print(at - begin)


def remove(directory, path, length, header, tensor):
    with open(path, "rb") as stream:
        stream.seek(8 + length)
        data = stream.read()
    kept, pieces, offset = {}, [], 0
    metadata = header.pop("__metadata__", None)
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        if name == tensor:
            continue
        begin, end = entry["data_offsets"]
        pieces.append(data[begin:end])
        kept[name] = dict(entry, data_offsets=[offset, offset + end - begin])
        offset += end - begin
    if metadata is not None:
        kept["__metadata__"] = metadata
    text = json.dumps(kept, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(text)) + text + b"".join(pieces))
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as stream:
            document = json.load(stream)
        del document["weight_map"][tensor]
        with open(index, "w", encoding="utf-8") as stream:
            json.dump(document, stream)


def main(directory, tensor, action):
    path, length, header = holding_file(directory, tensor)
    if action == "flip":
        flip(path, length, header[tensor])
    elif action == "remove":
        remove(directory, path, length, header, tensor)
    else:
        sys.exit(f"unknown action {action}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
