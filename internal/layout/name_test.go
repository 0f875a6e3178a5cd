package layout

import (
	"testing"
	"time"
)

func TestParseName(t *testing.T) {
	none := time.Time{}
	tests := []struct {
		name     string
		typ      Type // Other with hasType false means none found
		hasType  bool
		date     time.Time
		yearOnly bool
	}{
		// Dutch
		{"Factuur F2026-0042.pdf", Invoice, true, day(2026, 1, 1), true},
		{"factuur_2026-03-15_Acme.pdf", Invoice, true, day(2026, 3, 15), false},
		{"Creditnota 15-03-2026.pdf", CreditNote, true, day(2026, 3, 15), false},
		{"creditnota's 2026.pdf", CreditNote, true, none, false},
		{"Offerte-20260315.pdf", Quote, true, day(2026, 3, 15), false},
		{"BESTELBON 15.03.2026.pdf", OrderForm, true, day(2026, 3, 15), false},
		{"leveringsbon_LB2025-7.pdf", DeliveryNote, true, day(2025, 1, 1), true},
		{"Pakbon 1.pdf", DeliveryNote, true, none, false},
		{"Pro forma 2026_03_15.pdf", ProForma, true, day(2026, 3, 15), false},
		{"pro-formafactuur.pdf", ProForma, true, none, false},
		{"proformafactuur.pdf", ProForma, true, none, false},
		{"Aankoopfactuur AF2024-001.pdf", PurchaseInvoice, true, day(2024, 1, 1), true},
		{"voorschotfactuur 2026-0001.pdf", Prepayment, true, day(2026, 1, 1), true},
		{"Factuur2026-0042.pdf", Invoice, true, day(2026, 1, 1), true},
		// French
		{"Facture F2026-0042.pdf", Invoice, true, day(2026, 1, 1), true},
		{"Note de crédit NC-2026-003.pdf", CreditNote, true, day(2026, 1, 1), true},
		{"NOTE_DE_CREDIT 2026-03-15.pdf", CreditNote, true, day(2026, 3, 15), false},
		{"Avoir 12.pdf", CreditNote, true, none, false},
		{"Devis 2026-03-15.pdf", Quote, true, day(2026, 3, 15), false},
		{"bon de commande 15-03-2026.pdf", OrderForm, true, day(2026, 3, 15), false},
		{"Bon-de-livraison.pdf", DeliveryNote, true, none, false},
		{"Facture pro forma 2026-03-15.pdf", ProForma, true, day(2026, 3, 15), false},
		{"Facture d'achat 2026-03-15.pdf", PurchaseInvoice, true, day(2026, 3, 15), false},
		{"facture d’achat.pdf", PurchaseInvoice, true, none, false},
		{"Facture d'acompte.pdf", Prepayment, true, none, false},
		{"FACTURE.PDF", Invoice, true, none, false},
		// English
		{"Invoice INV2026-0042.pdf", Invoice, true, day(2026, 1, 1), true},
		{"credit-note 2026-03-15.pdf", CreditNote, true, day(2026, 3, 15), false},
		{"Credit Note.pdf", CreditNote, true, none, false},
		{"creditnote.pdf", CreditNote, true, none, false},
		{"Quote 20260315.pdf", Quote, true, day(2026, 3, 15), false},
		{"offer.pdf", Quote, true, none, false},
		{"Order 2026-03-15.pdf", OrderForm, true, day(2026, 3, 15), false},
		{"Delivery note.pdf", DeliveryNote, true, none, false},
		{"Proforma invoice.pdf", ProForma, true, none, false},
		{"Purchase invoice.pdf", PurchaseInvoice, true, none, false},
		// The first type word wins; a customer name later does not count.
		{"Factuur F2026-0042 Crédit Agricole.pdf", Invoice, true, day(2026, 1, 1), true},
		{"Creditnota bij factuur 2026-0042.pdf", CreditNote, true, day(2026, 1, 1), true},
		{"Factuur Devis BV.pdf", Invoice, true, none, false},
		// No type word
		{"scan.pdf", Other, false, none, false},
		{"2026-03-15.pdf", Other, false, day(2026, 3, 15), false},
		{"invoices.pdf", Other, false, none, false}, // whole words only
		{"refactuur.pdf", Other, false, none, false},
		{"", Other, false, none, false},
		// Dates that are not dates
		{"factuur 2026-02-30.pdf", Invoice, true, day(2026, 1, 1), true}, // invalid day; the year still reads as a number's
		{"factuur 31-04-2026.pdf", Invoice, true, none, false},
		{"factuur 1989-03-15.pdf", Invoice, true, none, false},
		{"factuur 2101-03-15.pdf", Invoice, true, none, false},
		{"factuur 20261315.pdf", Invoice, true, none, false},
		{"factuur 2031.pdf", Invoice, true, none, false}, // a bare number is not a year
		{"factuur 123456789.pdf", Invoice, true, none, false},
		{"F1989-0042.pdf", Other, false, none, false},
		{"F2101-0042.pdf", Other, false, none, false},
		{"2026-03.15.pdf", Other, false, day(2026, 1, 1), true}, // mixed separators
		{"15-3-2026.pdf", Other, false, day(2026, 3, 15), false},
		{"29-02-2024.pdf", Other, false, day(2024, 2, 29), false},
		{"29-02-2025.pdf", Other, false, none, false},
		{"15/03/2026.pdf", Other, false, none, false},
		{"report 2026-03-15 and 2025-01-01.pdf", Other, false, day(2026, 3, 15), false},
		{"x2026-03-15.pdf", Other, false, day(2026, 3, 15), false},
		{"F2026-0042", Other, false, day(2026, 1, 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseName(tt.name)
			if got.Type != tt.typ || got.HasType != tt.hasType || !got.Date.Equal(tt.date) || got.YearOnly != tt.yearOnly {
				t.Errorf("parseName(%q) = %v %v %s yearOnly=%v; want %v %v %s yearOnly=%v",
					tt.name, got.Type, got.HasType, got.Date.Format(time.DateOnly), got.YearOnly,
					tt.typ, tt.hasType, tt.date.Format(time.DateOnly), tt.yearOnly)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	inv := &ublInfo{Type: Invoice, IssueDate: day(2026, 3, 15), Number: "F2026-0042", Customer: "Acme NV", Supplier: "Leverancier BV"}
	cn := &ublInfo{Type: CreditNote, IssueDate: day(2026, 4, 1), Number: "C2026-1"}
	tests := []struct {
		name          string
		base          string
		own, sibling  *ublInfo
		want          Document
		wantNeedsTime bool
	}{
		{"own UBL", "F2026-0042.xml", inv, nil, Document{
			Type: Invoice, TypeSource: SourceUBL, IssueDate: day(2026, 3, 15), DateSource: SourceUBL,
			Customer: "Acme NV", CustomerSource: SourceUBL, Number: "F2026-0042", NumberSource: SourceUBL}, false},
		{"sibling UBL beats the name", "Offerte 2025-01-01.pdf", nil, inv, Document{
			Type: Invoice, TypeSource: SourceSiblingUBL, IssueDate: day(2026, 3, 15), DateSource: SourceSiblingUBL,
			Customer: "Acme NV", CustomerSource: SourceSiblingUBL, Number: "F2026-0042", NumberSource: SourceSiblingUBL}, false},
		{"no customer in UBL", "x.pdf", nil, cn, Document{
			Type: CreditNote, TypeSource: SourceSiblingUBL, IssueDate: day(2026, 4, 1), DateSource: SourceSiblingUBL,
			Number: "C2026-1", NumberSource: SourceSiblingUBL}, false},
		{"purchase invoice by name", "Aankoopfactuur 12.xml", inv, nil, Document{
			Type: PurchaseInvoice, TypeSource: SourceFileName, IssueDate: day(2026, 3, 15), DateSource: SourceUBL,
			Customer: "Leverancier BV", CustomerSource: SourceUBL, Number: "F2026-0042", NumberSource: SourceUBL}, false},
		{"purchase name does not turn a credit note", "Aankoopfactuur 12.xml", cn, nil, Document{
			Type: CreditNote, TypeSource: SourceUBL, IssueDate: day(2026, 4, 1), DateSource: SourceUBL,
			Number: "C2026-1", NumberSource: SourceUBL}, false},
		{"name only", "Factuur 2026-03-15.pdf", nil, nil, Document{
			Type: Invoice, TypeSource: SourceFileName, IssueDate: day(2026, 3, 15), DateSource: SourceFileName}, false},
		{"type from name, date left to mtime", "Offerte.pdf", nil, nil, Document{
			Type: Quote, TypeSource: SourceFileName}, true},
		{"year only", "F2026-0042.pdf", nil, nil, Document{
			IssueDate: day(2026, 1, 1), DateSource: SourceFileName, DateYearOnly: true}, true},
		{"nothing", "scan.pdf", nil, nil, Document{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.base, tt.own, tt.sibling)
			if got != tt.want {
				t.Errorf("decide =\n %+v\nwant\n %+v", got, tt.want)
			}
			if needsModTime(got) != tt.wantNeedsTime {
				t.Errorf("needsModTime = %v", !tt.wantNeedsTime)
			}
		})
	}
}

func TestWithModTime(t *testing.T) {
	brussels := time.FixedZone("CET", 3600)
	// 23:30 UTC on 31 March is already 1 April in Brussels: the local
	// calendar date is the one the user sees in the file manager.
	mtime := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC).In(brussels)
	tests := []struct {
		name string
		in   Document
		want Document
	}{
		{"no date", Document{Type: Quote, TypeSource: SourceFileName},
			Document{Type: Quote, TypeSource: SourceFileName, IssueDate: day(2026, 4, 1), DateSource: SourceModTime}},
		{"year only, same year", Document{IssueDate: day(2026, 1, 1), DateSource: SourceFileName, DateYearOnly: true},
			Document{IssueDate: day(2026, 4, 1), DateSource: SourceFileName, DateYearOnly: true}},
		{"year only, other year", Document{IssueDate: day(2024, 1, 1), DateSource: SourceFileName, DateYearOnly: true},
			Document{IssueDate: day(2024, 1, 1), DateSource: SourceFileName, DateYearOnly: true}},
		{"full date untouched", Document{IssueDate: day(2020, 5, 6), DateSource: SourceUBL},
			Document{IssueDate: day(2020, 5, 6), DateSource: SourceUBL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withModTime(tt.in, mtime); got != tt.want {
				t.Errorf("withModTime =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestTypeNames(t *testing.T) {
	for typ := Other; typ <= Prepayment; typ++ {
		back, err := ParseType(typ.String())
		if err != nil || back != typ {
			t.Errorf("ParseType(%q) = %v, %v", typ.String(), back, err)
		}
		for _, l := range []Language{Dutch, French, English} {
			if err := ValidSegment(typ.Folder(l)); err != nil {
				t.Errorf("%v in %s: %v", typ, l, err)
			}
		}
	}
	if _, err := ParseType("factuur"); err == nil {
		t.Error("ParseType accepted a folder name")
	}
	if got := Type(99).Folder(""); got != "Overige" {
		t.Errorf("unknown type folder = %q", got)
	}
	if l, err := ParseLanguage(" FR "); err != nil || l != French {
		t.Errorf("ParseLanguage = %v, %v", l, err)
	}
}
