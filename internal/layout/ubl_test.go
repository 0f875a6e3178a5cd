package layout

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// ubl describes a small UBL 2.1 document for tests.
type ubl struct {
	root     string // "Invoice" (default) or "CreditNote"
	ns       string // root namespace; default the one matching root
	code     string // type code; "" leaves the element out
	id       string
	date     string
	customer string // PartyName/Name
	legal    string // PartyLegalEntity/RegistrationName
	supplier string
	embed    int  // bytes of base64 in an AdditionalDocumentReference before the parties
	lines    int  // invoice lines after the parties
	noPrefix bool // default namespaces instead of cbc:/cac:
}

func (u ubl) String() string {
	root := u.root
	if root == "" {
		root = "Invoice"
	}
	ns := u.ns
	if ns == "" {
		ns = "urn:oasis:names:specification:ubl:schema:xsd:" + root + "-2"
	}
	cbc, cac := "cbc:", "cac:"
	open := func(p, name string) string { return "<" + p + name + ">" }
	close := func(p, name string) string { return "</" + p + name + ">" }
	el := func(p, name, text string) string { return open(p, name) + text + close(p, name) }
	if u.noPrefix {
		el = func(p, name, text string) string {
			space := nsCBC
			if p == "cac:" {
				space = nsCAC
			}
			return fmt.Sprintf(`<%s xmlns="%s">%s</%s>`, name, space, text, name)
		}
		open = func(p, name string) string {
			space := nsCBC
			if p == "cac:" {
				space = nsCAC
			}
			return fmt.Sprintf(`<%s xmlns="%s">`, name, space)
		}
		close = func(p, name string) string { return "</" + name + ">" }
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<%s xmlns="%s" xmlns:cbc="%s" xmlns:cac="%s">`+"\n", root, ns, nsCBC, nsCAC)
	b.WriteString(el(cbc, "CustomizationID", "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0") + "\n")
	if u.id != "" {
		b.WriteString(el(cbc, "ID", u.id) + "\n")
	}
	if u.date != "" {
		b.WriteString(el(cbc, "IssueDate", u.date) + "\n")
	}
	if u.code != "" {
		b.WriteString(el(cbc, root+"TypeCode", u.code) + "\n")
	}
	b.WriteString(el(cbc, "DocumentCurrencyCode", "EUR") + "\n")
	if u.embed > 0 {
		b.WriteString(open(cac, "AdditionalDocumentReference") + el(cbc, "ID", "att") +
			open(cac, "Attachment") + `<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="x.pdf">`)
		b.WriteString(strings.Repeat("QUJD", u.embed/4))
		b.WriteString(`</cbc:EmbeddedDocumentBinaryObject>` + close(cac, "Attachment") + close(cac, "AdditionalDocumentReference") + "\n")
	}
	party := func(role, name, legal string) {
		b.WriteString(open(cac, role) + open(cac, "Party") + el(cbc, "EndpointID", "0123456789"))
		if name != "" {
			b.WriteString(open(cac, "PartyName") + el(cbc, "Name", name) + close(cac, "PartyName"))
		}
		b.WriteString(open(cac, "PostalAddress") + el(cbc, "CityName", "Gent") + close(cac, "PostalAddress"))
		if legal != "" {
			b.WriteString(open(cac, "PartyLegalEntity") + el(cbc, "RegistrationName", legal) + close(cac, "PartyLegalEntity"))
		}
		b.WriteString(close(cac, "Party") + close(cac, role) + "\n")
	}
	party("AccountingSupplierParty", u.supplier, "")
	party("AccountingCustomerParty", u.customer, u.legal)
	b.WriteString(open(cac, "LegalMonetaryTotal") + el(cbc, "PayableAmount", "121.00") + close(cac, "LegalMonetaryTotal") + "\n")
	for i := 0; i < u.lines; i++ {
		fmt.Fprintf(&b, "%s%s%s%s\n", open(cac, root+"Line"), el(cbc, "ID", fmt.Sprint(i+1)),
			el(cbc, "LineExtensionAmount", "100.00"), close(cac, root+"Line"))
	}
	fmt.Fprintf(&b, "</%s>\n", root)
	return b.String()
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func TestParseUBL(t *testing.T) {
	std := ubl{id: "F2026-0042", date: "2026-03-15", customer: "Acme NV", supplier: "Ons Bedrijf BV"}
	with := func(f func(*ubl)) string { u := std; f(&u); return u.String() }
	tests := []struct {
		name string
		xml  string
		want ublInfo
		bad  bool // errNotUBL expected
	}{
		{"invoice without code", std.String(), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"380 invoice", with(func(u *ubl) { u.code = "380" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"381 in an invoice root", with(func(u *ubl) { u.code = "381" }), ublInfo{CreditNote, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"383 debit note", with(func(u *ubl) { u.code = "383" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"384 corrected", with(func(u *ubl) { u.code = "384" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"386 prepayment", with(func(u *ubl) { u.code = "386" }), ublInfo{Prepayment, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"389 self-billed", with(func(u *ubl) { u.code = "389" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"751 accounting", with(func(u *ubl) { u.code = "751" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"325 pro forma", with(func(u *ubl) { u.code = "325" }), ublInfo{ProForma, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"unknown code keeps root", with(func(u *ubl) { u.code = "999" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"credit note 381", with(func(u *ubl) { u.root, u.code = "CreditNote", "381" }), ublInfo{CreditNote, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"credit note 261", with(func(u *ubl) { u.root, u.code = "CreditNote", "261" }), ublInfo{CreditNote, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"credit note 396", with(func(u *ubl) { u.root, u.code = "CreditNote", "396" }), ublInfo{CreditNote, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"credit note no code", with(func(u *ubl) { u.root = "CreditNote" }), ublInfo{CreditNote, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"registration name", with(func(u *ubl) { u.customer, u.legal = "", "Acme Legal NV" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme Legal NV", "Ons Bedrijf BV"}, false},
		{"party name beats registration name", with(func(u *ubl) { u.legal = "Acme Legal NV" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"no customer", with(func(u *ubl) { u.customer = "" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "", "Ons Bedrijf BV"}, false},
		{"default namespaces", with(func(u *ubl) { u.noPrefix = true; u.code = "381" }), ublInfo{CreditNote, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"many lines", with(func(u *ubl) { u.lines = 500 }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"embedded pdf", with(func(u *ubl) { u.embed = 100 << 10 }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"embedded pdf beyond the limit keeps the header", with(func(u *ubl) { u.embed = maxUBLBytes + 1000 }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "", ""}, false},
		{"date with zone", with(func(u *ubl) { u.date = "2026-03-15+01:00" }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"BOM", "\xef\xbb\xbf" + std.String(), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"name over lines", with(func(u *ubl) { u.customer = "\n   Acme\n   NV  " }), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false},
		{"latin1", strings.Replace(strings.Replace(std.String(), "UTF-8", "ISO-8859-1", 1), "Acme NV", "Caf\xe9 NV", 1), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Café NV", "Ons Bedrijf BV"}, false},
		{"windows-1252", strings.Replace(strings.Replace(std.String(), "UTF-8", "windows-1252", 1), "Acme NV", "\x80 NV", 1), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "€ NV", "Ons Bedrijf BV"}, false},

		{"missing date", with(func(u *ubl) { u.date = "" }), ublInfo{}, true},
		{"missing id", with(func(u *ubl) { u.id = "" }), ublInfo{}, true},
		{"impossible date", with(func(u *ubl) { u.date = "2026-02-30" }), ublInfo{}, true},
		{"year out of range", with(func(u *ubl) { u.date = "1890-02-03" }), ublInfo{}, true},
		{"wrong namespace", with(func(u *ubl) { u.ns = "urn:example:invoice" }), ublInfo{}, true},
		{"no namespace", strings.Replace(std.String(), `xmlns="`+nsInvoice+`"`, "", 1), ublInfo{}, true},
		{"invoice local name in credit note namespace", with(func(u *ubl) { u.ns = nsCreditNote }), ublInfo{}, true},
		{"order root", with(func(u *ubl) { u.root = "Order" }), ublInfo{}, true},
		{"not UBL", `<?xml version="1.0"?><note><to>Tove</to></note>`, ublInfo{}, true},
		{"empty", "", ublInfo{}, true},
		{"truncated", std.String()[:200], ublInfo{}, true},
		{"utf-16 declared", strings.Replace(std.String(), "UTF-8", "UTF-16", 1), ublInfo{}, true},
		{"unknown entity", strings.Replace(std.String(), "Acme NV", "&lol;", 1), ublInfo{}, true},
		{"billion laughs", billionLaughs, ublInfo{}, true},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + strings.Replace(std.String(), `<?xml version="1.0" encoding="UTF-8"?>`, "", 1), ublInfo{}, true},
		{"garbage", "\x00\x01\x02PDF-1.7 %%EOF", ublInfo{}, true},
		{"two roots", std.String() + std.String(), ublInfo{Invoice, day(2026, 3, 15), "F2026-0042", "Acme NV", "Ons Bedrijf BV"}, false}, // stops at the customer
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUBL(strings.NewReader(tt.xml))
			if tt.bad {
				if !errors.Is(err, errNotUBL) {
					t.Fatalf("parseUBL = %+v, %v; want errNotUBL", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseUBL: %v", err)
			}
			if got != tt.want {
				t.Errorf("parseUBL =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE Invoice [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:ID>&lol9;</cbc:ID><cbc:IssueDate>2026-03-15</cbc:IssueDate>
</Invoice>`

// repeatReader yields head, then body repeated until n bytes in all, then
// tail, without holding more than one copy in memory.
type repeatReader struct {
	head, body, tail string
	n                int64 // bytes of body still to give
	off              int
	stage            int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for {
		switch r.stage {
		case 0:
			if r.off < len(r.head) {
				n := copy(p, r.head[r.off:])
				r.off += n
				return n, nil
			}
			r.stage, r.off = 1, 0
		case 1:
			if r.n > 0 {
				chunk := r.body[r.off:]
				if int64(len(chunk)) > r.n {
					chunk = chunk[:r.n]
				}
				n := copy(p, chunk)
				r.n -= int64(n)
				r.off = (r.off + n) % len(r.body)
				return n, nil
			}
			r.stage, r.off = 2, 0
		default:
			if r.off < len(r.tail) {
				n := copy(p, r.tail[r.off:])
				r.off += n
				return n, nil
			}
			return 0, io.EOF
		}
	}
}

func TestParseUBLHostileStreams(t *testing.T) {
	root := `<Invoice xmlns="` + nsInvoice + `" xmlns:cbc="` + nsCBC + `">`
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"100k-deep nesting", &repeatReader{head: root, body: "<a>", n: 3 * 100_000, tail: strings.Repeat("</a>", 100_000) + "</Invoice>"}},
		{"100k-deep nesting in a field", &repeatReader{head: root + "<cbc:ID>", body: "<cbc:ID>", n: 8 * 100_000}},
		{"50 MiB of text after the root", &repeatReader{head: root, body: "garbage ", n: 50 << 20}},
		{"50 MiB of one field", &repeatReader{head: root + "<cbc:ID>", body: "0123456789abcdef", n: 50 << 20, tail: "</cbc:ID></Invoice>"}},
		{"50 MiB of attributes", &repeatReader{head: `<Invoice xmlns="` + nsInvoice + `" `, body: `a="b" `, n: 50 << 20}},
		{"50 MiB of binary", &repeatReader{head: "", body: "\x00\xff\xfe<>&;", n: 50 << 20}},
		{"50 MiB comment before the root", &repeatReader{head: "<!--", body: "comment ", n: 50 << 20}},
		{"many siblings", &repeatReader{head: root, body: "<x/>", n: 50 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				_, err := parseUBL(tt.r)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, errNotUBL) {
					t.Errorf("parseUBL: %v, want errNotUBL", err)
				}
				t.Logf("rejected in %v: %v", time.Since(start).Round(time.Millisecond), err)
			case <-time.After(60 * time.Second):
				t.Fatal("parseUBL hangs")
			}
		})
	}
}

func TestParseUBLReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(`<Invoice xmlns="`+nsInvoice+`">`), &errReader{boom})
	if _, err := parseUBL(r); !errors.Is(err, boom) {
		t.Fatalf("parseUBL: %v, want the read error", err)
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }
