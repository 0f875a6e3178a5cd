package layout

import (
	"errors"
	"strings"
	"testing"
)

func TestParseStructure(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the result
		tmpl    string // Template() of the result
		wantErr error
	}{
		{"year", "year", "/{company}/{year}/{file}", nil},
		{"year-type", "year-type", "/{company}/{year}/{type}/{file}", nil},
		{" Type-Year ", "type-year", "/{company}/{type}/{year}/{file}", nil},
		{"/{company}/{year}/{file}", "/{company}/{year}/{file}", "/{company}/{year}/{file}", nil},
		{"{company}/{year}/{month}", "/{company}/{year}/{month}/{file}", "", nil},
		{"{company}/{year}/{month}/", "/{company}/{year}/{month}/{file}", "", nil},
		{"{company}/{year}-{month}/{type}", "/{company}/{year}-{month}/{type}/{file}", "", nil},
		{"{company}/{Year}/{ QUARTER }", "/{company}/{year}/{quarter}/{file}", "", nil},
		{"{company}/Boekhouding {year}/{customer}/{type}", "/{company}/Boekhouding {year}/{customer}/{type}/{file}", "", nil},
		{"{company}", "/{company}/{file}", "", nil},
		{"{company}/Archief", "/{company}/Archief/{file}", "", nil},
		{"{company}/Créé/{year}", "/{company}/Créé/{year}/{file}", "", nil},

		{"", "", "", ErrEmptyStructure},
		{"  ", "", "", ErrEmptyStructure},
		{"/", "", "", ErrEmptyStructure},
		{"{company}/{yeer}", "", "", ErrUnknownPlaceholder},
		{"{company}/{}", "", "", ErrUnknownPlaceholder},
		{"{company}/{year", "", "", ErrUnbalancedBraces},
		{"{company}/year}", "", "", ErrUnbalancedBraces},
		{"{company}/{{year}}", "", "", ErrUnbalancedBraces},
		{"{company}/}{", "", "", ErrUnbalancedBraces},
		{"{year}/{company}", "", "", ErrCompanyNotFirst},
		{"{company}-{year}/{type}", "", "", ErrCompanyNotFirst},
		{"Archief/{company}", "", "", ErrCompanyNotFirst},
		{"{file}", "", "", ErrCompanyNotFirst},
		{"{company}//{year}", "", "", ErrEmptySegment},
		{"//{company}", "", "", ErrEmptySegment},
		{"{company}/../{year}", "", "", ErrDotSegment},
		{"{company}/./{year}", "", "", ErrDotSegment},
		{"{company}/{file}/{year}", "", "", ErrFileNotLast},
		{"{company}/{year}/x{file}", "", "", ErrFileNotLast},
		{`{company}/a\b`, "", "", ErrInvalidCharacter},
		{"{company}/a:b", "", "", ErrInvalidCharacter},
		{"{company}/a\x00b", "", "", ErrInvalidCharacter},
		{"{company}/a\tb", "", "", ErrInvalidCharacter},
		{"{company}/😀", "", "", ErrInvalidCharacter},
		{"{company}/\xff", "", "", ErrInvalidCharacter},
		{"{company}/CON", "", "", ErrInvalidLiteral},
		{"{company}/desktop.ini", "", "", ErrInvalidLiteral},
		{"{company}/ {year}", "", "", ErrInvalidLiteral},
		{"{company}/{year} /{type}", "", "", ErrInvalidLiteral},
		{"{company}/{year}.", "", "", ErrInvalidLiteral},
		{"{company}/...", "", "", ErrInvalidLiteral},
		{"{company}/" + strings.Repeat("x", 300), "", "", ErrInvalidLiteral},
		{"{company}/" + strings.Repeat("{year}/", 8), "", "", ErrTooManySegments},
		{"{company}/" + strings.Repeat("x", 600), "", "", ErrStructureTooLong},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 50 {
			name = name[:50]
		}
		t.Run(name, func(t *testing.T) {
			got, err := ParseStructure(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseStructure(%q) = %v, want %v", tt.in, err, tt.wantErr)
				}
				var se *StructureError
				if !errors.As(err, &se) {
					t.Fatalf("error %T is not a *StructureError", err)
				}
				t.Logf("message: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("ParseStructure(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("String() = %q, want %q", got.String(), tt.want)
			}
			if tt.tmpl != "" && got.Template() != tt.tmpl {
				t.Errorf("Template() = %q, want %q", got.Template(), tt.tmpl)
			}
			again, err := ParseStructure(got.String())
			if err != nil || again.Template() != got.Template() {
				t.Errorf("round trip: %v, %q", err, again.Template())
			}
		})
	}
}

func TestStructureMessages(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{company}/{yeer}", `folder structure "{company}/{yeer}": unknown placeholder {yeer}; use {company}, {year}, {quarter}, {month}, {type}, {customer} or {file}`},
		{"{year}/{company}", `folder structure "{year}/{company}": the first folder must be {company}, not "{year}"`},
		{"{company}/{year", `folder structure "{company}/{year": unbalanced braces in "{year"`},
		{"{company}/a:b", `folder structure "{company}/a:b": the character ':' is not allowed in a folder name`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseStructure(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestStructureText(t *testing.T) {
	var zero Structure
	if zero.String() != PresetYearType {
		t.Errorf("zero Structure = %q, want the year-type preset", zero.String())
	}
	st := MustParseStructure("{company}/{year}/{quarter}")
	b, err := st.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back Structure
	if err := back.UnmarshalText(b); err != nil || back.Template() != st.Template() {
		t.Errorf("UnmarshalText(%q) = %v, %q", b, err, back.Template())
	}
	if err := back.UnmarshalText([]byte("{nope}")); err == nil {
		t.Error("UnmarshalText accepted a bad template")
	}
}
