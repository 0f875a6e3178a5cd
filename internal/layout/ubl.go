package layout

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The UBL 2.1 namespaces we read. Element names are matched on namespace and
// local name together, so a prefix other than cbc/cac works and a look-alike
// in another namespace does not.
const (
	nsInvoice    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	nsCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
	nsCBC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
	nsCAC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
)

// Bounds on reading untrusted XML.
const (
	// maxUBLBytes caps the bytes read from one file. The header fields we
	// need come first in a UBL document, but an embedded PDF
	// (cac:AdditionalDocumentReference) may precede the parties; 8 MiB
	// covers typical embedded PDFs while keeping a hostile file cheap.
	maxUBLBytes = 8 << 20
	// maxUBLDepth caps element nesting; real UBL stays under 15.
	maxUBLDepth = 64
	// maxFieldBytes caps a text field we keep (ID, names).
	maxFieldBytes = 1 << 10
)

// ublInfo is what a UBL document says about itself.
type ublInfo struct {
	Type      Type
	IssueDate time.Time
	Number    string
	Customer  string // AccountingCustomerParty
	Supplier  string // AccountingSupplierParty
}

// errNotUBL marks a file that is not a UBL invoice or credit note we can
// use: malformed, hostile, another vocabulary, or missing ID or IssueDate.
var errNotUBL = errors.New("not a UBL invoice or credit note")

// errLimit is returned by boundedReader once maxUBLBytes have been read.
var errLimit = errors.New("read limit reached")

// boundedReader stops after n bytes with errLimit, and remembers a read
// error of the underlying reader so that an unreadable file is told apart
// from a malformed one.
type boundedReader struct {
	r     io.Reader
	n     int64
	ioErr error
}

// Read implements io.Reader.
func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if err != nil && err != io.EOF {
		b.ioErr = err
	}
	return n, err
}

// typeCodes maps UNCL1001 document type codes to our types. Codes not listed
// take the type of the root element (Invoice or CreditNote).
var typeCodes = map[string]Type{
	"380": Invoice,    // commercial invoice
	"383": Invoice,    // debit note: charges more, filed as an invoice
	"384": Invoice,    // corrected invoice
	"389": Invoice,    // self-billed invoice: we cannot tell our side, keep it with invoices
	"393": Invoice,    // factored invoice
	"395": Invoice,    // consignment invoice
	"326": Invoice,    // partial invoice
	"575": Invoice,    // insurer's invoice
	"623": Invoice,    // forwarder's invoice
	"780": Invoice,    // freight invoice
	"751": Invoice,    // invoice information for accounting purposes
	"381": CreditNote, // credit note
	"261": CreditNote, // self-billed credit note
	"262": CreditNote, // consolidated credit note
	"308": CreditNote, // delcredere credit note
	"396": CreditNote, // factored credit note
	"532": CreditNote, // forwarder's credit note
	"83":  CreditNote, // credit note related to financial adjustments
	"386": Prepayment, // prepayment invoice
	"325": ProForma,   // proforma invoice
	"310": Quote,      // offer / quotation
	"220": OrderForm,  // order
	"270": DeliveryNote,
}

// parseUBL reads a UBL 2.1 Invoice or CreditNote from r, streaming, and stops
// as soon as it has the header fields and the customer. It never expands
// entities (a DOCTYPE ends the read), never nests deeper than maxUBLDepth and
// never reads more than maxUBLBytes.
//
// It returns errNotUBL (wrapped) for anything that is not a usable UBL
// document, and the underlying error for a failed read.
func parseUBL(r io.Reader) (ublInfo, error) {
	br := &boundedReader{r: r, n: maxUBLBytes}
	info, err := decodeUBL(br)
	if br.ioErr != nil {
		return ublInfo{}, br.ioErr
	}
	return info, err
}

// bufPool recycles the read buffers of decodeUBL: classifying a folder
// parses thousands of small files, and a fresh 16 KiB buffer each was most
// of the garbage.
var bufPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func decodeUBL(br *boundedReader) (ublInfo, error) {
	buf := bufPool.Get().(*bufio.Reader)
	buf.Reset(br)
	defer func() {
		buf.Reset(nil)
		bufPool.Put(buf)
	}()
	// A UTF-8 byte order mark is legal XML that encoding/xml rejects.
	if bom, _ := buf.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		buf.Discard(3)
	}
	d := xml.NewDecoder(buf)
	d.Strict = true // unknown entities are errors, never expanded
	d.CharsetReader = charsetReader

	var (
		info     ublInfo
		haveRoot bool
		haveID   bool
		haveDate bool
		code     string
		stack    [maxUBLDepth + 1]string // "c:Name" for cac/cbc, "" otherwise
		depth    int
		text     []byte
		inText   bool // collecting the text of a field we want
	)
	fail := func(why string) (ublInfo, error) {
		return ublInfo{}, fmt.Errorf("%w: %s", errNotUBL, why)
	}
	finish := func() (ublInfo, error) {
		if !haveRoot || !haveID || !haveDate {
			return fail("missing cbc:ID or cbc:IssueDate")
		}
		if t, ok := typeCodes[strings.TrimSpace(code)]; ok {
			info.Type = t
		}
		return info, nil
	}
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, errLimit) && haveRoot {
				// A big file (an embedded PDF) is not a bad one: keep
				// what the header gave.
				return finish()
			}
			if err == io.EOF && haveRoot && depth == 0 {
				return finish()
			}
			return fail(err.Error())
		}
		switch t := tok.(type) {
		case xml.Directive:
			// UBL never has a DOCTYPE; refusing it is what keeps entity
			// tricks (billion laughs) out entirely.
			return fail("DOCTYPE or other directive")
		case xml.StartElement:
			depth++
			if depth > maxUBLDepth {
				return fail("nested too deep")
			}
			if depth == 1 {
				switch {
				case t.Name.Space == nsInvoice && t.Name.Local == "Invoice":
					info.Type = Invoice
				case t.Name.Space == nsCreditNote && t.Name.Local == "CreditNote":
					info.Type = CreditNote
				default:
					return fail(fmt.Sprintf("root element {%s}%s", t.Name.Space, t.Name.Local))
				}
				haveRoot = true
				continue
			}
			stack[depth] = ""
			switch t.Name.Space {
			case nsCBC:
				stack[depth] = "b:" + t.Name.Local
			case nsCAC:
				stack[depth] = "a:" + t.Name.Local
				if depth == 2 && afterParties[t.Name.Local] {
					return finish()
				}
			}
			inText = wanted(stack[2:depth+1]) != ""
			text = text[:0]
		case xml.CharData:
			if inText {
				text = append(text, t[:min(len(t), maxFieldBytes-len(text))]...)
			}
		case xml.EndElement:
			if depth == 1 {
				depth = 0
				continue
			}
			if inText {
				v := cleanField(text)
				switch wanted(stack[2 : depth+1]) {
				case "id":
					info.Number, haveID = v, v != ""
				case "date":
					dt, ok := parseISODate(v)
					if !ok {
						return fail(fmt.Sprintf("issue date %q", v))
					}
					info.IssueDate, haveDate = dt, true
				case "code":
					code = v
				case "customer-name":
					info.Customer = v
				case "customer-legal":
					if info.Customer == "" {
						info.Customer = v
					}
				case "supplier-name":
					info.Supplier = v
				case "supplier-legal":
					if info.Supplier == "" {
						info.Supplier = v
					}
				}
				inText = false
			}
			if depth == 2 && stack[2] == "a:AccountingCustomerParty" {
				return finish() // everything we read comes before it ends
			}
			depth--
		}
	}
}

// afterParties are root children that UBL places after the customer party:
// meeting one means the customer is absent and we can stop.
var afterParties = map[string]bool{
	"PayeeParty": true, "TaxRepresentativeParty": true, "Delivery": true,
	"DeliveryTerms": true, "PaymentMeans": true, "PaymentTerms": true,
	"PrepaidPayment": true, "AllowanceCharge": true, "TaxTotal": true,
	"WithholdingTaxTotal": true, "LegalMonetaryTotal": true,
	"InvoiceLine": true, "CreditNoteLine": true,
}

// wanted names the field at path (the stack below the root), or "".
func wanted(path []string) string {
	switch len(path) {
	case 1:
		switch path[0] {
		case "b:ID":
			return "id"
		case "b:IssueDate":
			return "date"
		case "b:InvoiceTypeCode", "b:CreditNoteTypeCode":
			return "code"
		}
	case 4:
		var who string
		switch path[0] {
		case "a:AccountingCustomerParty":
			who = "customer"
		case "a:AccountingSupplierParty":
			who = "supplier"
		default:
			return ""
		}
		if path[1] != "a:Party" {
			return ""
		}
		switch {
		case path[2] == "a:PartyName" && path[3] == "b:Name":
			return who + "-name"
		case path[2] == "a:PartyLegalEntity" && path[3] == "b:RegistrationName":
			return who + "-legal"
		}
	}
	return ""
}

// cleanField trims a text field and collapses its inner whitespace, so a
// name broken over lines in the XML makes one folder name.
func cleanField(b []byte) string {
	if len(b) > maxFieldBytes {
		b = b[:maxFieldBytes]
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	return strings.ToValidUTF8(s, "")
}

// parseISODate parses the xsd:date of cbc:IssueDate: YYYY-MM-DD, possibly
// followed by a time zone we ignore (the date is what the issuer wrote).
func parseISODate(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if !isDigit(s[i]) {
			return time.Time{}, false
		}
	}
	switch rest := s[10:]; {
	case rest == "", rest == "Z":
	case (rest[0] == '+' || rest[0] == '-') && len(rest) == 6 && rest[3] == ':':
	default:
		return time.Time{}, false
	}
	atoi := func(s string) int {
		n := 0
		for _, c := range s {
			n = n*10 + int(c-'0')
		}
		return n
	}
	return date(atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10]))
}

// charsetReader lets encoding/xml read the single-byte encodings a Belgian
// accounting export might declare; anything else is refused (not UBL).
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return &singleByteReader{r: input}, nil
	case "windows-1252", "cp1252":
		return &singleByteReader{r: input, cp1252: true}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// cp1252High holds the characters windows-1252 puts at 0x80..0x9F, where
// ISO-8859-1 has control characters.
var cp1252High = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

// singleByteReader converts ISO-8859-1 or windows-1252 to UTF-8.
type singleByteReader struct {
	r      io.Reader
	cp1252 bool
	in     [4096]byte
	buf    []byte // backing store of out, kept across reads
	out    []byte // converted bytes not yet returned
}

// Read implements io.Reader.
func (s *singleByteReader) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		n, err := s.r.Read(s.in[:])
		s.out = s.buf[:0]
		for _, c := range s.in[:n] {
			r := rune(c)
			if s.cp1252 && c >= 0x80 && c < 0xA0 {
				r = cp1252High[c-0x80]
			}
			s.out = utf8.AppendRune(s.out, r)
		}
		s.buf = s.out[:0]
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}
