package tunnel

// byteReader consumes a byte slice front to back; every read reports
// whether enough bytes were left, and consumes nothing when not.
type byteReader struct{ b []byte }

func (r *byteReader) empty() bool { return len(r.b) == 0 }

func (r *byteReader) skip(n int) bool {
	if len(r.b) < n {
		return false
	}
	r.b = r.b[n:]
	return true
}

func (r *byteReader) readUint8(v *uint8) bool {
	if len(r.b) < 1 {
		return false
	}
	*v = r.b[0]
	r.b = r.b[1:]
	return true
}

func (r *byteReader) readUint16(v *uint16) bool {
	if len(r.b) < 2 {
		return false
	}
	*v = uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return true
}

// readPrefixed reads a vector whose length is given by a big-endian prefix
// of lenBytes (1 or 2) bytes.
func (r *byteReader) readPrefixed(lenBytes int, out *byteReader) bool {
	if len(r.b) < lenBytes {
		return false
	}
	n := 0
	for _, c := range r.b[:lenBytes] {
		n = n<<8 | int(c)
	}
	if len(r.b) < lenBytes+n {
		return false
	}
	out.b = r.b[lenBytes : lenBytes+n]
	r.b = r.b[lenBytes+n:]
	return true
}
