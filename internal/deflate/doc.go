// Package deflate is the permessage-deflate codec of RFC 7692: DEFLATE
// (RFC 1951) compression of WebSocket messages, with or without context
// takeover, for every LZ77 window size from 2^8 to 2^15 bytes.
//
// A [Compressor] compresses the messages one endpoint sends. Each message
// is DEFLATE data that ends with a sync flush, an empty stored block, whose
// final 0x00 0x00 0xff 0xff are removed ([RFC 7692, Section 7.2.1]). A
// [Decompressor] reads the messages the peer sends: it appends those four
// bytes again ([RFC 7692, Section 7.2.2]) and inflates the result with a
// DEFLATE decoder of its own.
//
// # Why a compressor of its own
//
// With context takeover ([RFC 7692, Section 7.1.1]) a message may refer to
// the ones before it, so a compressor must keep the last 2^windowBits bytes
// of its input from one message to the next. [compress/flate] cannot keep
// only that: its Writer keeps its state, about 1 MB, for the life of the
// stream; Writer.Reset goes back to the dictionary given to NewWriterDict,
// not to a new one; and at BestSpeed a dictionary is not used at all. So
// pooling flate.Writers across connections is impossible with takeover,
// and keeping one per connection costs a megabyte per idle connection.
//
// The Compressor here is its own DEFLATE encoder. While a message is in
// progress it borrows a pooled state: a 96 KiB window buffer, a 64 KiB
// token buffer and hash tables (64 KiB at level 1, 256 KiB of hash chains
// at levels 2 to 9). The tables hold positions relative to an offset, so
// handing them to another stream is a change of the offset, not a
// clearing of the tables. No back-reference reaches further than
// 2^windowBits bytes, so every window size the peers can negotiate
// ([RFC 7692, Section 7.1.2]) is honoured exactly. Each block is sent
// stored, with the fixed Huffman code or with a dynamic one, whichever is
// smallest; dynamic codes are limited to 15 bits (7 for the code-length
// code), as RFC 1951 requires.
//
// When the pooled state comes back to the Compressor that used it last,
// its tables still hold that Compressor's history and the message costs
// nothing extra. Otherwise the history is copied into the window buffer
// and entered into the hash tables with an effort in proportion to the
// message: the last max(2 KiB, twice the input at hand) bytes at every
// position, the 32 times as many bytes as the input before them at every
// fourth position, and older history not at all. The matchers extend matches backwards, which makes
// up for most of what the sparse part misses. So a 300-byte chat message
// with 32 KiB of history costs about 4500 insertions, and one of 1 KiB or
// more can refer to all of its history.
//
// # Why a decompressor of its own
//
// The reader of [compress/flate] takes its input through an
// [io.ByteReader], a method call per byte, allocates Huffman tables for
// every dynamic block, and must be handed the history as a dictionary to
// copy. The Decompressor's decoder reads the compressed bytes from its own
// buffer through a 64-bit bit buffer refilled a word at a time, decodes
// Huffman codes with tables of two levels (10 bits, then up to 5 more,
// for literals and lengths; 8, then up to 7, for distances) kept in its
// pooled state, and copies matches a word at a time; the tables of the
// fixed code are built once. Back-references into the history are read
// where the history is, a ring in the Decompressor, so a message costs
// nothing in proportion to the history but the copy of its own output
// into it. It accepts the same data as [compress/flate], which the fuzz
// tests check: Huffman codes must be complete, but for a code of a single
// symbol of one bit, or of no symbols at all.
//
// When the message's reader fails (a timeout, say), the decoder stops
// before the symbol it could not finish, keeping the compressed bytes it
// has not used, and the next Read goes on from there.
//
// # Memory
//
// Between messages, with context takeover, a Compressor holds its
// history, 2^windowBits bytes, and a Decompressor the last 2^windowBits
// bytes of output; without takeover they hold nothing but their own small
// structs (64 bytes each on 64-bit platforms, allocation included). The
// pooled states are held only while a message is in progress: about
// 240 KiB for a Compressor at level 1 and 430 KiB at levels 2 to 9, and
// for a Decompressor about 80 KiB: a 64 KiB window of output, 14 KiB of
// Huffman tables, and a buffer of the compressed bytes read but not yet
// decoded, usually 4 KiB (the pool keeps such buffers of up to 1 MiB for
// reuse).
//
// # Concurrency
//
// A Compressor or a Decompressor must be used by one goroutine at a time;
// different ones may be used concurrently. The pools they share are safe
// for concurrent use.
//
// # Errors
//
// Compressing cannot fail. A payload that is not valid DEFLATE data gives
// an error matching [ErrCorrupt], which says what was wrong and where in
// the payload. An error of the reader a message comes from is
// returned as it is, and the message can be read on afterwards. No input
// makes either side panic.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
// [RFC 7692, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.2
// [RFC 7692, Section 7.2.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1
// [RFC 7692, Section 7.2.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
package deflate
