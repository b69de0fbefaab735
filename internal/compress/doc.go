// Package compress stores cached bytes as LZ4 when that pays, in a layout
// that keeps range reads cheap and every byte checked.
//
// A compressed segment is a run of independent LZ4 frames, each holding
// FrameSize bytes of the original (the last one fewer) and carrying LZ4's
// content checksum, followed by an index of where each frame ends and a
// fixed footer. A range read decodes only the frames it touches, so a read
// of a few bytes in the middle of a 5 GiB segment costs at most two frames.
// Any checksum mismatch, bad index or truncated file is an error: the
// caller treats the segment as missing and fetches the bytes again.
//
// Worth decides per object: already-compressed formats (by content type or
// key extension) are stored raw, and so is data whose first block does not
// shrink by a useful margin.
package compress
