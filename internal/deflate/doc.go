// Package deflate is the permessage-deflate codec of RFC 7692: DEFLATE
// (RFC 1951) compression of WebSocket messages, with or without context
// takeover, for every LZ77 window size from 2^8 to 2^15 bytes.
//
// A [Compressor] compresses the messages one endpoint sends. Each message
// is DEFLATE data that ends with a sync flush, an empty stored block, whose
// final 0x00 0x00 0xff 0xff are removed ([RFC 7692, Section 7.2.1]). A
// [Decompressor] reads the messages the peer sends: it appends those four
// bytes again ([RFC 7692, Section 7.2.2]) and inflates the result with
// [compress/flate].
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
// progress it borrows a pooled state, about 600 KiB: a window buffer, hash
// tables and a token buffer. The tables hold positions relative to an
// offset, so handing them to another stream is a change of the offset, not
// a clearing of the tables. The message's history is copied into the
// window buffer and, unless the encoder comes back to the Compressor that
// used it last, its most recent part is entered into the hash tables (see
// below). No back-reference reaches further than 2^windowBits bytes, so
// every window size the peers can negotiate ([RFC 7692, Section 7.1.2]) is
// honoured exactly. Each block is sent stored, with the fixed Huffman code
// or with a dynamic one, whichever is smallest; dynamic codes are limited
// to 15 bits (7 for the code-length code), as RFC 1951 requires.
//
// When a message begins on an encoder last used by another stream, the
// history must be entered into the hash tables before it can be matched.
// The last 4 KiB of it, or four times the input at hand if that is more,
// are entered at every position; older history at every 8th position,
// which the matchers make up for by extending matches backwards. So a
// small message with 32 KiB of history costs about 7500 insertions.
//
// # Memory
//
// Between messages, with context takeover, a Compressor holds its
// history, 2^windowBits bytes, and a Decompressor the last 2^windowBits
// bytes of output; without takeover they hold nothing but their own small
// structs (64 bytes each on 64-bit platforms). The pooled state is held
// only while a message is in progress: about 600 KiB for a Compressor
// (less at level 1, which needs no hash chains), and for a Decompressor a
// flate reader (about 45 KiB), a 32 KiB ring of output, and a copy of
// the message's compressed bytes.
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
// an error matching [ErrCorrupt], which wraps the error of
// [compress/flate]. An error of the reader a message comes from is
// returned as it is, and the message can be read on afterwards. No input
// makes either side panic.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
// [RFC 7692, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.2
// [RFC 7692, Section 7.2.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1
// [RFC 7692, Section 7.2.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
package deflate
