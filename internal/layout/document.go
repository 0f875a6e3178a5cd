package layout

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Type is the kind of an onFact document. The zero value is Other.
type Type int

// The document types. Their numeric values are not stable across versions:
// persist Type.String() instead.
const (
	Other           Type = iota // anything we cannot tell: "overige"
	Invoice                     // sales invoice: "factuur"
	CreditNote                  // "creditnota"
	Quote                       // "offerte"
	OrderForm                   // "bestelbon"
	DeliveryNote                // "leveringsbon"
	ProForma                    // "pro forma"
	PurchaseInvoice             // "aankoopfactuur"
	Prepayment                  // "voorschotfactuur": filed with the invoices
)

var typeNames = [...]string{
	Other:           "other",
	Invoice:         "invoice",
	CreditNote:      "credit-note",
	Quote:           "quote",
	OrderForm:       "order-form",
	DeliveryNote:    "delivery-note",
	ProForma:        "pro-forma",
	PurchaseInvoice: "purchase-invoice",
	Prepayment:      "prepayment",
}

// String returns a stable, language-neutral identifier such as "credit-note",
// for logs, the preview output and persisted state.
func (t Type) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return fmt.Sprintf("type(%d)", int(t))
	}
	return typeNames[t]
}

// ErrUnknownType is returned by ParseType for a name Type.String never gives.
var ErrUnknownType = errors.New("unknown document type")

// ParseType is the inverse of Type.String, for reading persisted state.
func ParseType(s string) (Type, error) {
	for t, name := range typeNames {
		if name == s {
			return Type(t), nil
		}
	}
	return Other, fmt.Errorf("document type %q: %w", s, ErrUnknownType)
}

// Language is the language of the folder names a connection creates. It is
// fixed when the connection is created, so that paths never move because the
// user switched the interface language.
type Language string

// The supported languages. The zero Language behaves as Dutch.
const (
	Dutch   Language = "nl"
	French  Language = "fr"
	English Language = "en"
)

// ErrUnknownLanguage is returned by ParseLanguage for anything but nl, fr or en.
var ErrUnknownLanguage = errors.New("unknown language: use nl, fr or en")

// ParseLanguage accepts "nl", "fr" or "en" in any case.
func ParseLanguage(s string) (Language, error) {
	switch l := Language(strings.ToLower(strings.TrimSpace(s))); l {
	case Dutch, French, English:
		return l, nil
	}
	return "", fmt.Errorf("language %q: %w", s, ErrUnknownLanguage)
}

func (l Language) index() int {
	switch l {
	case French:
		return 1
	case English:
		return 2
	}
	return 0
}

// folderNames holds the {type} folder per type, in nl, fr, en order.
// Prepayment invoices share the invoices folder: for the bookkeeping they are
// sales invoices, and a folder the user never chose would only surprise.
var folderNames = [...][3]string{
	Other:           {"Overige", "Autres", "Other"},
	Invoice:         {"Facturen", "Factures", "Invoices"},
	CreditNote:      {"Creditnota's", "Notes de crédit", "Credit notes"},
	Quote:           {"Offertes", "Devis", "Quotes"},
	OrderForm:       {"Bestelbonnen", "Bons de commande", "Order forms"},
	DeliveryNote:    {"Leveringsbonnen", "Bons de livraison", "Delivery notes"},
	ProForma:        {"Pro forma's", "Factures pro forma", "Pro formas"},
	PurchaseInvoice: {"Aankoopfacturen", "Factures d'achat", "Purchase invoices"},
	Prepayment:      {"Facturen", "Factures", "Invoices"},
}

// unknownNames is the folder used for a placeholder whose value is not known
// (a {customer} of a document without one), in nl, fr, en order.
var unknownNames = [3]string{"Onbekend", "Inconnu", "Unknown"}

// Folder returns the localized folder name of t, as used for {type}.
func (t Type) Folder(l Language) string {
	if t < 0 || int(t) >= len(folderNames) {
		t = Other
	}
	return folderNames[t][l.index()]
}

// Source tells where a piece of document metadata came from.
type Source int

// The sources, from most to least trusted.
const (
	SourceNone       Source = iota // not known
	SourceUBL                      // the file itself is UBL XML
	SourceSiblingUBL               // the UBL .xml file beside it with the same base name
	SourceFileName                 // words or digits in the file name
	SourceModTime                  // the file's modification time
)

var sourceNames = [...]string{"none", "ubl", "sibling-ubl", "file-name", "mtime"}

// String returns a stable identifier such as "sibling-ubl".
func (s Source) String() string {
	if s < 0 || int(s) >= len(sourceNames) {
		return fmt.Sprintf("source(%d)", int(s))
	}
	return sourceNames[s]
}

// Document is what classification found out about one file. Every field says
// where it came from, so the wizard can explain a surprising folder.
type Document struct {
	Type       Type
	TypeSource Source

	// IssueDate is a calendar date at midnight UTC. After Classify it is
	// never zero: the modification time is the last resort.
	IssueDate  time.Time
	DateSource Source
	// DateYearOnly is set when the file name gave only a year (a number
	// such as F2026-0042): the month and day then come from the
	// modification time when it falls in that year, else they are 1 January.
	DateYearOnly bool

	// Customer is the counterparty: the customer of a sales document, the
	// supplier of a purchase invoice. Empty when unknown.
	Customer       string
	CustomerSource Source

	// Number is the document number (cbc:ID). File names are too free-form
	// to take a number from, so it is only ever read from UBL.
	Number       string
	NumberSource Source
}

// File is one local file with its classification: the input of mapping.
type File struct {
	// Path is slash-separated and relative to the export folder, e.g.
	// "2026/F2026-0042.pdf", or "Client BV/F2026-0042.pdf" in accountant mode.
	Path string
	Doc  Document
}

// date returns the calendar date y-m-d at midnight UTC, and false unless it
// is a real date in the years we accept.
func date(y, m, d int) (time.Time, bool) {
	if y < minYear || y > maxYear || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31 April normalizes to 1 May
		return time.Time{}, false
	}
	return t, true
}

// The years a date may have. Outside them a "date" is much more likely a
// number that happens to look like one.
const (
	minYear = 1990
	maxYear = 2100
)
