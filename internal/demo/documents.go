package demo

import (
	"encoding/xml"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var customers = []string{"Bakkerij Peeters", "Garage Dubois", "Janssens & Zonen BV", "Café De Hoek", "Atelier Lambert"}

// documentKinds are the onFact documents the demo makes: a UBL code (0 for none: a PDF
// named after its type only) and the name onFact gives the file.
var documentKinds = []struct {
	code   int
	root   string // UBL root element
	prefix string
}{
	{380, "Invoice", "Factuur"},
	{380, "Invoice", "Factuur"},
	{381, "CreditNote", "Creditnota"},
	{0, "", "Offerte"},
	{0, "", "Bestelbon"},
}

// Documents writes n onFact-like documents into dir, dated in the months before now: UBL
// 2.1 invoices and credit notes each with their PDF, and quotes and order forms as PDFs
// named the way onFact names them. The content is the same for the same n and now's month.
func Documents(dir string, n int, now time.Time) error {
	rng := rand.New(rand.NewSource(int64(now.Year()*100 + int(now.Month()))))
	for i := range n {
		k := documentKinds[i%len(documentKinds)]
		date := now.AddDate(0, 0, -7*i)
		customer := customers[rng.Intn(len(customers))]
		number := fmt.Sprintf("%c%d-%04d", k.prefix[0], date.Year(), i+1)
		base := fmt.Sprintf("%s %s %s", k.prefix, number, customer)
		sub := filepath.Join(dir, fmt.Sprint(date.Year()))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("demo documents: %w", err)
		}
		if k.code != 0 {
			if err := os.WriteFile(filepath.Join(sub, base+".xml"), ubl(k.root, k.code, number, date, customer, rng), 0o644); err != nil {
				return fmt.Errorf("demo documents: %w", err)
			}
		} else {
			base = fmt.Sprintf("%s %s %s", k.prefix, date.Format("2006-01-02"), customer)
		}
		if err := os.WriteFile(filepath.Join(sub, base+".pdf"), pdf(base), 0o644); err != nil {
			return fmt.Errorf("demo documents: %w", err)
		}
		// Old enough to count as finished, so the demo starts sending at once.
		for _, ext := range []string{".xml", ".pdf"} {
			os.Chtimes(filepath.Join(sub, base+ext), date, date)
		}
	}
	return nil
}

// ubl is a minimal UBL 2.1 document of the kind onFact exports.
func ubl(root string, code int, number string, date time.Time, customer string, rng *rand.Rand) []byte {
	codeElem := "InvoiceTypeCode"
	if root == "CreditNote" {
		codeElem = "CreditNoteTypeCode"
	}
	amount := float64(100+rng.Intn(5000)) + float64(rng.Intn(100))/100
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<%[1]s xmlns="urn:oasis:names:specification:ubl:schema:xsd:%[1]s-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ID>%[2]s</cbc:ID>
  <cbc:IssueDate>%[3]s</cbc:IssueDate>
  <cbc:%[4]s>%[5]d</cbc:%[4]s>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party><cac:PartyName><cbc:Name>Demo BV</cbc:Name></cac:PartyName></cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>%[6]s</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">%.2[7]f</cbc:PayableAmount></cac:LegalMonetaryTotal>
</%[1]s>
`, root, number, date.Format("2006-01-02"), codeElem, code, xmlEscape(customer), amount)
}

// pdf is a tiny but well-formed one-page PDF whose text is title.
func pdf(title string) []byte {
	content := fmt.Sprintf("BT /F1 18 Tf 72 720 Td (%s) Tj ET", title)
	return fmt.Appendf(nil, `%%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj
4 0 obj << /Length %d >> stream
%s
endstream endobj
5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
trailer << /Root 1 0 R >>
%%%%EOF
`, len(content), content)
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // writing to a Builder cannot fail
	return b.String()
}
