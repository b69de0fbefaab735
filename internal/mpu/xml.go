package mpu

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxXMLBytes bounds the XML documents parsed here, as S3 bounds a
// CompleteMultipartUpload request body.
const maxXMLBytes = 10 << 20

// ErrTooLarge means an XML document exceeds maxXMLBytes.
var ErrTooLarge = errors.New("mpu: XML body larger than 10 MiB")

// CompleteRequest is the part list of a CompleteMultipartUpload request.
type CompleteRequest struct {
	Parts []CompletedPart
}

// CompletedPart is one <Part> of it.
type CompletedPart struct {
	Number int
	ETag   string // as listed, usually quoted
}

// CompleteResult is S3's successful CompleteMultipartUpload answer.
type CompleteResult struct {
	Location, Bucket, Key string
	ETag                  string // the object's ETag, quoted as S3 sent it
}

// CreateResult is S3's CreateMultipartUpload answer.
type CreateResult struct {
	Bucket, Key, UploadID string
}

// S3Error is an <Error> document, such as S3 may send in the body of a 200
// answer to CompleteMultipartUpload after failing.
type S3Error struct {
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
}

func (e *S3Error) Error() string { return "S3 error " + e.Code + ": " + e.Message }

// ParseCompleteRequest reads a CompleteMultipartUpload request body of at
// most 10 MiB. It checks the document is a <CompleteMultipartUpload> with 1
// to 10000 <Part>s, each with a decimal <PartNumber> from 1 to 10000 and a
// non-empty <ETag>. Order is checked by Stager.Complete.
func ParseCompleteRequest(r io.Reader) (CompleteRequest, error) {
	var doc struct {
		Parts []struct {
			PartNumber *string `xml:"PartNumber"`
			ETag       string  `xml:"ETag"`
		} `xml:"Part"`
	}
	if err := decodeDocument(r, "CompleteMultipartUpload", &doc); err != nil {
		return CompleteRequest{}, fmt.Errorf("parse CompleteMultipartUpload request: %w", err)
	}
	if len(doc.Parts) == 0 || len(doc.Parts) > maxPartNumber {
		return CompleteRequest{}, fmt.Errorf("parse CompleteMultipartUpload request: %d parts", len(doc.Parts))
	}
	req := CompleteRequest{Parts: make([]CompletedPart, 0, len(doc.Parts))}
	for i, p := range doc.Parts {
		if p.PartNumber == nil {
			return CompleteRequest{}, fmt.Errorf("parse CompleteMultipartUpload request: part %d has no PartNumber", i+1)
		}
		n, err := parsePartNumber(*p.PartNumber)
		if err != nil {
			return CompleteRequest{}, fmt.Errorf("parse CompleteMultipartUpload request: %w", err)
		}
		if err := validateETag(p.ETag); err != nil {
			return CompleteRequest{}, fmt.Errorf("parse CompleteMultipartUpload request: part %d: %w", n, err)
		}
		req.Parts = append(req.Parts, CompletedPart{Number: n, ETag: strings.TrimSpace(p.ETag)})
	}
	return req, nil
}

func parsePartNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("PartNumber %q", s)
	}
	n, _ := strconv.Atoi(s)
	if err := validatePartNumber(n); err != nil {
		return 0, err
	}
	return n, nil
}

// ParseCompleteResult reads S3's answer to CompleteMultipartUpload. S3 may
// answer 200, send white space while it assembles the object, then an
// <Error>: that is returned as an *S3Error. Otherwise the document must be
// a <CompleteMultipartUploadResult> with a non-empty <ETag>.
func ParseCompleteResult(r io.Reader) (CompleteResult, error) {
	var doc struct {
		Location string `xml:"Location"`
		Bucket   string `xml:"Bucket"`
		Key      string `xml:"Key"`
		ETag     string `xml:"ETag"`
	}
	if err := decodeDocument(r, "CompleteMultipartUploadResult", &doc); err != nil {
		return CompleteResult{}, fmt.Errorf("parse CompleteMultipartUpload result: %w", err)
	}
	etag := strings.TrimSpace(doc.ETag)
	if err := validateETag(etag); err != nil {
		return CompleteResult{}, fmt.Errorf("parse CompleteMultipartUpload result: %w", err)
	}
	return CompleteResult{Location: doc.Location, Bucket: doc.Bucket, Key: doc.Key, ETag: etag}, nil
}

// ParseCreateResult reads S3's answer to CreateMultipartUpload, an
// <InitiateMultipartUploadResult> whose <UploadId> must pass
// ValidateUploadID; an <Error> is returned as an *S3Error.
func ParseCreateResult(r io.Reader) (CreateResult, error) {
	var doc struct {
		Bucket   string `xml:"Bucket"`
		Key      string `xml:"Key"`
		UploadID string `xml:"UploadId"`
	}
	if err := decodeDocument(r, "InitiateMultipartUploadResult", &doc); err != nil {
		return CreateResult{}, fmt.Errorf("parse CreateMultipartUpload result: %w", err)
	}
	if err := ValidateUploadID(doc.UploadID); err != nil {
		return CreateResult{}, fmt.Errorf("parse CreateMultipartUpload result: %w", err)
	}
	return CreateResult{Bucket: doc.Bucket, Key: doc.Key, UploadID: doc.UploadID}, nil
}

// decodeDocument reads at most maxXMLBytes from r and decodes a document
// whose root element is named root (any namespace) into v. A root named
// Error is decoded into an *S3Error and returned. Before and after the root
// only white space, comments and processing instructions may stand.
func decodeDocument(r io.Reader, root string, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, maxXMLBytes+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(data) > maxXMLBytes {
		return ErrTooLarge
	}
	// S3's keep-alive white space may precede the XML declaration, which
	// a strict parser only accepts first.
	dec := xml.NewDecoder(bytes.NewReader(bytes.TrimLeft(data, " \t\r\n")))
	start, err := rootElement(dec)
	if err != nil {
		return err
	}
	switch start.Name.Local {
	case root:
		if err := dec.DecodeElement(v, &start); err != nil {
			return fmt.Errorf("decode <%s>: %w", root, err)
		}
	case "Error":
		var s3err S3Error
		if err := dec.DecodeElement(&s3err, &start); err != nil {
			return fmt.Errorf("decode <Error>: %w", err)
		}
		if s3err.Code == "" {
			s3err.Code = "UnknownError"
		}
		return &s3err
	default:
		return fmt.Errorf("root element <%s>, want <%s>", start.Name.Local, root)
	}
	return endOfDocument(dec)
}

// rootElement skips the prolog and returns the root element's start.
func rootElement(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, errors.New("no XML element")
			}
			return xml.StartElement{}, fmt.Errorf("XML prolog: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		case xml.Directive:
			return xml.StartElement{}, errors.New("XML directive (DTD) not accepted")
		}
	}
}

// endOfDocument accepts only white space, comments and processing
// instructions after the root element.
func endOfDocument(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("after the root element: %w", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text after the root element")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errors.New("content after the root element")
		}
	}
}
