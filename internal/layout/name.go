package layout

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// nameInfo is what a file name says about a document.
type nameInfo struct {
	Type    Type // Other when no type word was found
	HasType bool

	// Date is set (non-zero) for a full date in the name, or for a year
	// taken from a document number, in which case YearOnly is set and Date
	// is 1 January of that year.
	Date     time.Time
	YearOnly bool
}

// phrase is a run of folded words naming a document type.
type phrase struct {
	words []string
	typ   Type
}

// typePhrases lists the nl/fr/en words for each type, already folded
// (lower case, no accents). "d'achat" is split at the apostrophe like every
// other separator, hence "d", "achat".
var typePhrases = []phrase{
	{[]string{"factuur"}, Invoice},
	{[]string{"facture"}, Invoice},
	{[]string{"invoice"}, Invoice},
	{[]string{"verkoopfactuur"}, Invoice},

	{[]string{"creditnota"}, CreditNote},
	{[]string{"creditnote"}, CreditNote},
	{[]string{"creditfactuur"}, CreditNote},
	{[]string{"creditmemo"}, CreditNote},
	{[]string{"credit", "nota"}, CreditNote},
	{[]string{"credit", "note"}, CreditNote},
	{[]string{"credit", "memo"}, CreditNote},
	{[]string{"note", "de", "credit"}, CreditNote},
	{[]string{"avoir"}, CreditNote},

	{[]string{"offerte"}, Quote},
	{[]string{"prijsofferte"}, Quote},
	{[]string{"devis"}, Quote},
	{[]string{"quote"}, Quote},
	{[]string{"quotation"}, Quote},
	{[]string{"offer"}, Quote},
	{[]string{"offre"}, Quote},

	{[]string{"bestelbon"}, OrderForm},
	{[]string{"bestelling"}, OrderForm},
	{[]string{"orderbevestiging"}, OrderForm},
	{[]string{"bon", "de", "commande"}, OrderForm},
	{[]string{"commande"}, OrderForm},
	{[]string{"order"}, OrderForm},
	{[]string{"purchase", "order"}, OrderForm},

	{[]string{"leveringsbon"}, DeliveryNote},
	{[]string{"leverbon"}, DeliveryNote},
	{[]string{"afleverbon"}, DeliveryNote},
	{[]string{"pakbon"}, DeliveryNote},
	{[]string{"bon", "de", "livraison"}, DeliveryNote},
	{[]string{"delivery", "note"}, DeliveryNote},
	{[]string{"packing", "slip"}, DeliveryNote},

	{[]string{"proforma"}, ProForma},
	{[]string{"proformafactuur"}, ProForma},
	{[]string{"pro", "forma"}, ProForma},
	{[]string{"pro", "formafactuur"}, ProForma},
	// "facture pro forma" is the usual French order: the qualifier follows.
	{[]string{"factuur", "proforma"}, ProForma},
	{[]string{"factuur", "pro", "forma"}, ProForma},
	{[]string{"facture", "proforma"}, ProForma},
	{[]string{"facture", "pro", "forma"}, ProForma},
	{[]string{"invoice", "proforma"}, ProForma},
	{[]string{"invoice", "pro", "forma"}, ProForma},

	{[]string{"aankoopfactuur"}, PurchaseInvoice},
	{[]string{"inkoopfactuur"}, PurchaseInvoice},
	{[]string{"leveranciersfactuur"}, PurchaseInvoice},
	{[]string{"aankoop", "factuur"}, PurchaseInvoice},
	{[]string{"facture", "d", "achat"}, PurchaseInvoice},
	{[]string{"facture", "achat"}, PurchaseInvoice},
	{[]string{"purchase", "invoice"}, PurchaseInvoice},
	{[]string{"supplier", "invoice"}, PurchaseInvoice},

	{[]string{"voorschotfactuur"}, Prepayment},
	{[]string{"voorschot"}, Prepayment},
	{[]string{"voorschot", "factuur"}, Prepayment},
	{[]string{"facture", "d", "acompte"}, Prepayment},
	{[]string{"facture", "acompte"}, Prepayment},
	{[]string{"acompte"}, Prepayment},
	{[]string{"prepayment"}, Prepayment},
	{[]string{"prepayment", "invoice"}, Prepayment},
	{[]string{"advance", "invoice"}, Prepayment},
}

// phrasesByFirst indexes typePhrases by first word, longest phrase first, so
// that "facture d'achat" wins over "facture" at the same position.
var phrasesByFirst = func() map[string][]phrase {
	m := make(map[string][]phrase)
	for _, p := range typePhrases {
		m[p.words[0]] = append(m[p.words[0]], p)
	}
	for _, ps := range m {
		for i := 1; i < len(ps); i++ { // insertion sort by length, stable
			for j := i; j > 0 && len(ps[j].words) > len(ps[j-1].words); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
	}
	return m
}()

// parseName reads the type and date from a file's base name (extension
// included or not). It is pure.
//
// The first type phrase from the left wins: onFact and people put the kind
// of document first ("Factuur F2026-0042 Crédit Agricole.pdf"), and a
// customer name later in the name must not override it.
func parseName(base string) nameInfo {
	stem := base
	if i := strings.LastIndexByte(stem, '.'); i > 0 {
		stem = stem[:i]
	}
	var info nameInfo
	words := foldWords(stem)
	for i := 0; i < len(words) && !info.HasType; i++ {
		for _, p := range phrasesByFirst[words[i]] {
			if hasPrefixWords(words[i:], p.words) {
				info.Type, info.HasType = p.typ, true
				break
			}
		}
	}
	info.Date, info.YearOnly = nameDate(stem)
	return info
}

func hasPrefixWords(words, prefix []string) bool {
	if len(words) < len(prefix) {
		return false
	}
	for i, w := range prefix {
		if words[i] != w {
			return false
		}
	}
	return true
}

// foldWords splits s into lower-case, accent-free words of letters or of
// digits: "Note_de-Crédit2026" gives note, de, credit, 2026. Splitting
// letters from digits finds "factuur" in "Factuur2026".
func foldWords(s string) []string {
	var words []string
	var b strings.Builder
	kind := 0 // 0 none, 1 letters, 2 digits
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
		kind = 0
	}
	for _, r := range s {
		f := foldRune(r)
		switch {
		case f == "":
			flush()
		case f[0] >= '0' && f[0] <= '9':
			if kind != 2 {
				flush()
			}
			kind = 2
			b.WriteString(f)
		default:
			if kind != 1 {
				flush()
			}
			kind = 1
			b.WriteString(f)
		}
	}
	flush()
	return words
}

// foldRune returns r lower-cased without its accent, or "" when r separates
// words. Only Latin letters used in nl/fr/en are un-accented; other letters
// are kept lower-cased, which is enough since no type word contains them.
func foldRune(r rune) string {
	if r < utf8.RuneSelf {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return string(r)
		case r >= 'A' && r <= 'Z':
			return string(r + 'a' - 'A')
		}
		return ""
	}
	if f, ok := accentFold[unicode.ToLower(r)]; ok {
		return f
	}
	if unicode.IsLetter(r) {
		return string(unicode.ToLower(r))
	}
	if unicode.IsDigit(r) {
		return "" // only ASCII digits make dates and numbers
	}
	return ""
}

var accentFold = func() map[rune]string {
	m := make(map[rune]string)
	for base, accented := range map[string]string{
		"a": "àáâãäåā", "c": "çć", "e": "èéêëēė", "i": "ìíîïī", "n": "ñ",
		"o": "òóôõöøō", "u": "ùúûüū", "y": "ýÿ", "ae": "æ", "oe": "œ", "ss": "ß",
	} {
		for _, r := range accented {
			m[r] = base
		}
	}
	return m
}()

// digitRun is a maximal run of ASCII digits at s[start:end].
type digitRun struct{ start, end int }

// nameDate finds the first full date in s (2026-03-15, 15-03-2026,
// 15.03.2026, 2026_03_15, 20260315), else the first year inside a document
// number (F2026-0042, 2026-0042), else nothing. The day comes before the
// month, as in Belgium and the Netherlands; dates that do not exist or fall
// outside 1990..2100 are not dates.
func nameDate(s string) (time.Time, bool) {
	var runs []digitRun
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		runs = append(runs, digitRun{i, j})
		i = j
	}
	num := func(r digitRun) int {
		n := 0
		for _, c := range s[r.start:r.end] {
			n = n*10 + int(c-'0')
			if n > 1e8 {
				return -1
			}
		}
		return n
	}
	// sep reports whether runs a and b are separated by one date separator,
	// returning it.
	sep := func(a, b digitRun) byte {
		if b.start-a.end != 1 {
			return 0
		}
		switch c := s[a.end]; c {
		case '-', '.', '_', ' ':
			return c
		}
		return 0
	}
	for i, r := range runs {
		n := r.end - r.start
		if n == 8 {
			v := num(r)
			if t, ok := date(v/10000, v/100%100, v%100); ok {
				return t, false
			}
		}
		if i+2 >= len(runs) {
			continue
		}
		m, e := runs[i+1], runs[i+2]
		c := sep(r, m)
		if c == 0 || sep(m, e) != c {
			continue
		}
		ml, el := m.end-m.start, e.end-e.start
		if n == 4 && ml <= 2 && el <= 2 {
			if t, ok := date(num(r), num(m), num(e)); ok {
				return t, false
			}
		}
		if n <= 2 && ml <= 2 && el == 4 {
			if t, ok := date(num(e), num(m), num(r)); ok {
				return t, false
			}
		}
	}
	// A year only counts inside a document number: right after a letter
	// (F2026) or followed by a separator and more digits (2026-0042). A bare
	// "2031" is as likely a sequence number as a year.
	for i, r := range runs {
		if r.end-r.start != 4 {
			continue
		}
		y := num(r)
		if y < minYear || y > maxYear {
			continue
		}
		afterLetter := r.start > 0 && isASCIILetter(s[r.start-1])
		beforeNumber := false
		if i+1 < len(runs) && runs[i+1].start-r.end == 1 {
			switch s[r.end] {
			case '-', '.', '_', '/':
				beforeNumber = true
			}
		}
		if afterLetter || beforeNumber {
			t, _ := date(y, 1, 1)
			return t, true
		}
	}
	return time.Time{}, false
}

func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
