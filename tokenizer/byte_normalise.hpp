#pragma once
// Pieces as the bytes they stand for, so that tokenizer families compare fairly: byte-level BPE
// writes the space as 'Ġ' (the GPT-2 table), SentencePiece as '▁' with <0xNN> byte tokens, and
// WordPiece marks the continuation of a word with "##" instead of marking its start.
//
// The rules, per token:
//  - an added token (special or not) is literal text: its UTF-8 bytes;
//  - byte level: every code point through the inverse GPT-2 table (a piece holding a code point
//    outside the table keeps its UTF-8 bytes);
//  - SentencePiece: <0xNN> is the byte NN, every other '▁' is a space;
//  - WordPiece: a piece with the continuation prefix loses it ("##ing" -> "ing"); any other piece
//    starts a word and gains a leading space ("word" -> " word"), which is how byte-level BPE
//    ("Ġword") and SentencePiece ("▁word") spell a word after a space. Word-initial pieces at the
//    very start of a text thus compare with their space-prefixed forms, the common case;
//  - anything else (character-level BPE): its UTF-8 bytes.
// Two pieces of one vocabulary may then stand for the same bytes ('▁' and <0x20>); comparisons
// keep the lower id and count the others as folded.
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace lineage {

// The bytes `token` stands for in `vocabulary` (by the rules above).
std::string token_bytes(const tokenizer_vocabulary& vocabulary, const vocabulary_token& token);

// The bytes of a model piece (a merge's part): the rules above without the added-token one.
std::string piece_bytes(const tokenizer_vocabulary& vocabulary, const std::string& piece);

// The merges as byte pairs, in rank order.
std::vector<std::pair<std::string, std::string>> merge_bytes(const tokenizer_vocabulary& vocabulary);

}  // namespace lineage
