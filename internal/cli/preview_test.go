package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const invoiceXML = `<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
 <cbc:ID>F2026-0042</cbc:ID>
 <cbc:IssueDate>2026-03-15</cbc:IssueDate>
 <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Acme NV</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
</Invoice>`

// exportDir makes a small export folder named "Ons Bedrijf".
func exportDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "Ons Bedrijf")
	mtime := time.Date(2025, 6, 7, 12, 0, 0, 0, time.Local)
	for name, content := range map[string]string{
		"F2026-0042.xml":               invoiceXML,
		"F2026-0042.pdf":               "%PDF",
		"Offerte 2026-01-05.pdf":       "%PDF",
		"Klant BV/Creditnota 1.pdf":    "%PDF",
		"Klant BV/~$Creditnota.docx":   "x",
		"Klant BV/Factuur F2024-9.pdf": "%PDF",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Preview(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPreview(t *testing.T) {
	dir := exportDir(t)
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // exact, when set
		stderrHas  string
		stdoutHas  string
		stdoutRows int // when >= 0 and stdout unset
	}{
		{
			name: "defaults",
			args: []string{"--folder", dir},
			code: ExitOK,
			stdout: "F2026-0042.pdf\tinvoice\t2026-03-15\tAcme NV\t/Ons Bedrijf/2026/Facturen/F2026-0042.pdf\n" +
				"F2026-0042.xml\tinvoice\t2026-03-15\tAcme NV\t/Ons Bedrijf/2026/Facturen/F2026-0042.xml\n" +
				"Klant BV/Creditnota 1.pdf\tcredit-note\t2025-06-07\t\t/Ons Bedrijf/2025/Creditnota's/Creditnota 1.pdf\n" +
				"Klant BV/Factuur F2024-9.pdf\tinvoice\t2024-01-01\t\t/Ons Bedrijf/2024/Facturen/Factuur F2024-9.pdf\n" +
				"Klant BV/~$Creditnota.docx\t\t\t\tskipped: temporary or lock file\n" +
				"Offerte 2026-01-05.pdf\tquote\t2026-01-05\t\t/Ons Bedrijf/2026/Offertes/Offerte 2026-01-05.pdf\n",
			stderrHas: "5 of 5 files shown, 1 skipped",
		},
		{
			name:      "accountant, type-year, French, company",
			args:      []string{"--folder", dir, "--structure", "type-year", "--lang", "fr", "--accountant", "--company", "Cabinet"},
			code:      ExitOK,
			stdoutHas: "Klant BV/Creditnota 1.pdf\tcredit-note\t2025-06-07\t\t/Klant BV/Notes de crédit/2025/Creditnota 1.pdf\n",
		},
		{
			name:      "top-level files go to --company in accountant mode",
			args:      []string{"--folder", dir, "--accountant", "--company", "Cabinet", "--structure", "year"},
			code:      ExitOK,
			stdoutHas: "F2026-0042.pdf\tinvoice\t2026-03-15\tAcme NV\t/Cabinet/2026/F2026-0042.pdf\n",
		},
		{
			name:      "custom template",
			args:      []string{"-folder", dir, "-structure", "{company}/{year}-{month}/{customer}"},
			code:      ExitOK,
			stdoutHas: "/Ons Bedrijf/2026-03/Acme NV/F2026-0042.pdf\n",
		},
		{
			name:       "limit",
			args:       []string{"--folder", dir, "--limit", "2"},
			code:       ExitOK,
			stdoutRows: 2,
			stderrHas:  "Use --all",
		},
		{
			name:       "all beats limit",
			args:       []string{"--folder", dir, "--limit", "1", "--all"},
			code:       ExitOK,
			stdoutRows: 6,
		},
		{name: "help", args: []string{"-h"}, code: ExitOK, stderrHas: "Usage: onfact-dropbox preview"},
		{name: "no folder", args: nil, code: ExitUsage, stderrHas: "--folder is required"},
		{name: "unknown flag", args: []string{"--folder", dir, "--colour"}, code: ExitUsage, stderrHas: "flag provided but not defined: -colour"},
		{name: "bad structure", args: []string{"--folder", dir, "--structure", "{company}/{yeer}"}, code: ExitUsage, stderrHas: "unknown placeholder {yeer}"},
		{name: "company not first", args: []string{"--folder", dir, "--structure", "{year}/{company}"}, code: ExitUsage, stderrHas: "the first folder must be {company}"},
		{name: "bad language", args: []string{"--folder", dir, "--lang", "de"}, code: ExitUsage, stderrHas: `--lang "de": use nl, fr or en`},
		{name: "bad limit", args: []string{"--folder", dir, "--limit", "0"}, code: ExitUsage, stderrHas: "--limit must be at least 1"},
		{name: "not a number", args: []string{"--folder", dir, "--limit", "many"}, code: ExitUsage, stderrHas: "invalid value"},
		{name: "stray argument", args: []string{"--folder", dir, "extra"}, code: ExitUsage, stderrHas: `unexpected argument "extra"`},
		{name: "missing folder", args: []string{"--folder", filepath.Join(dir, "nope")}, code: ExitError, stderrHas: "does not exist."},
		{name: "a file, not a folder", args: []string{"--folder", filepath.Join(dir, "F2026-0042.pdf")}, code: ExitError, stderrHas: "not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant\n%s", stdout, tt.stdout)
			}
			if tt.stdoutHas != "" && !strings.Contains(stdout, tt.stdoutHas) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdoutHas, stdout)
			}
			if tt.stdoutRows > 0 {
				if n := strings.Count(stdout, "\n"); n != tt.stdoutRows {
					t.Errorf("%d rows, want %d:\n%s", n, tt.stdoutRows, stdout)
				}
			}
			if tt.stderrHas != "" && !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderrHas, stderr)
			}
			if tt.code != ExitOK && stdout != "" {
				t.Errorf("output on failure:\n%s", stdout)
			}
		})
	}
}
