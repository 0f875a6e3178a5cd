package layout

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strings"
)

// Bounds of the completeness check.
const (
	// pdfTail is how far from the end a PDF's %%EOF may be: readers accept it within
	// the last 1 KiB, after which some writers leave padding.
	pdfTail = 1 << 10
	// maxCompleteXML is the largest XML file parsed to its end; a larger one is taken
	// as complete rather than parsed at every look.
	maxCompleteXML = 64 << 20
)

// Complete reports whether a document's content is whole, for the kinds whose end we
// know: a PDF ends with its %%EOF marker, an XML document (UBL) parses to the end of its
// root element. Other files are taken as complete. The settle time alone cannot tell a
// document written in pieces with pauses, or a download that first creates an empty
// file, from a finished one; their content can. The error is for reading only.
func Complete(name string, r io.ReaderAt, size int64) (bool, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return pdfComplete(r, size)
	case ".xml":
		if size > maxCompleteXML {
			return true, nil
		}
		return xmlComplete(io.NewSectionReader(r, 0, size))
	}
	return true, nil
}

func pdfComplete(r io.ReaderAt, size int64) (bool, error) {
	n := min(size, pdfTail)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return bytes.Contains(tail, []byte("%%EOF")), nil
}

// xmlComplete reads tokens to the end of the root element; a document cut short ends
// in an error first.
func xmlComplete(r io.Reader) (bool, error) {
	d := xml.NewDecoder(&readErrs{r: r})
	d.CharsetReader = charsetReader
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			var re *readErr
			if errors.As(err, &re) {
				return false, re.err
			}
			return false, nil // cut short (or malformed): not complete as it stands
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth--; depth == 0 {
				return true, nil
			}
		}
	}
}

// readErr marks a failure of the reader itself, told apart from malformed content.
type readErr struct{ err error }

func (e *readErr) Error() string { return e.err.Error() }

type readErrs struct{ r io.Reader }

func (r *readErrs) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &readErr{err}
	}
	return n, err
}
