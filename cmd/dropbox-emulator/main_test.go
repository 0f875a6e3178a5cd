package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/contenthash"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/filetransfer"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/users"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/syncbuf"
)

// buildEmulator compiles this command, so the test runs the binary people run rather than
// calling run() in-process: flag parsing, signal handling and exit all take part.
func buildEmulator(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("ONFACT_EMULATOR_EXE"); bin != "" {
		// Built beforehand by scripts/wine-test.sh: under Wine there is no Go toolchain.
		return bin
	}
	bin := filepath.Join(t.TempDir(), "dropbox-emulator")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// emulator is one running process of the binary.
type emulator struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *syncbuf.Buffer
	done   chan struct{} // closed when the process has exited and been reaped
	err    error         // Wait's result, valid after done
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startEmulator runs the binary and waits for its "listening on" line; the address is
// picked by the kernel (port 0), so tests never collide on a port.
func startEmulator(t *testing.T, bin string, args ...string) *emulator {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	e := &emulator{t: t, cmd: cmd, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		// Wait must not run before stdout is drained (os/exec closes the pipe).
		e.err = cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(func() { e.kill() })

	select {
	case e.url = <-urls:
	case <-e.done:
		t.Fatalf("emulator exited before listening: %v\n%s", e.err, e.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("emulator did not print its address\n%s", e.stderr)
	}
	return e
}

// stop sends SIGTERM and expects a clean exit, as a supervisor or Ctrl-C would cause.
func (e *emulator) stop() {
	e.t.Helper()
	if runtime.GOOS == "windows" {
		// Windows cannot send another process SIGTERM (nor Ctrl-C, without sharing its
		// console): Kill is all there is, and what the emulator keeps across it is what
		// TestKillKeepsAcknowledged checks. The clean exit on a signal is tested on Linux.
		e.kill()
		return
	}
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		e.t.Fatal(err)
	}
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		e.t.Fatalf("emulator ignored SIGTERM\n%s", e.stderr)
	}
	if e.err != nil {
		e.t.Fatalf("emulator exit after SIGTERM: %v\n%s", e.err, e.stderr)
	}
}

// kill is kill -9: no chance to flush or close anything.
func (e *emulator) kill() {
	_ = e.cmd.Process.Kill()
	select {
	case <-e.done:
	case <-time.After(time.Minute):
		e.t.Errorf("emulator still running a minute after kill\n%s", e.stderr)
	}
}

// config gives the SDK a client with a deadline: a request to an emulator that was killed
// mid-answer must fail, not wait forever. Under Wine, a killed process's socket can stay
// open in wineserver, and the SDK's default client has no timeout.
func (e *emulator) config(token string) dropbox.Config {
	client := &http.Client{
		Timeout:   time.Minute,
		Transport: &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})},
	}
	return dropbox.Config{Client: client, URLGenerator: dropboxemu.URLGenerator(e.url)}
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		t.Fatalf("%s is empty", path)
	}
	return string(b)
}

// testFile is one file of the tree the tests upload.
type testFile struct {
	path string
	data []byte
}

func hashOf(t *testing.T, b []byte) string {
	t.Helper()
	h, err := contenthash.Compute(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// tree is a deterministic set of ~30 files as an accounting office has them: nested
// customer folders, mixed sizes, names with spaces and accents, empty files, and one file
// larger than the SDK's 8 MiB chunk so it goes through an upload session.
func tree() []testFile {
	rng := rand.New(rand.NewSource(42))
	data := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	var out []testFile
	customers := []string{"Acme BV", "Bakkerij Één", "Café Müller"}
	for i, c := range customers {
		for j := range 8 {
			p := fmt.Sprintf("/Klanten/%s/2026/Q%d/Factuur F2026-%03d.pdf", c, j%4+1, i*10+j)
			out = append(out, testFile{p, data(rng.Intn(200 << 10))})
		}
	}
	out = append(out,
		testFile{"/Klanten/Acme BV/leeg.txt", nil},
		testFile{"/Klanten/Bakkerij Één/2026/Q1/.keep", []byte{}},
		testFile{"/Archief/Lege Map/nul bytes.bin", nil},
		testFile{"/Archief/Scans/Grote scan.tiff", data(9<<20 + 12345)},
		testFile{"/README.txt", []byte("onFact Dropbox Sync\n")},
	)
	return out
}

// uploadTree sends every file with the real SDK; the large one through filetransfer's
// Uploader, which splits it into an upload session of several appends.
func uploadTree(t *testing.T, cfg dropbox.Config, fs []testFile) {
	t.Helper()
	c := files.New(cfg)
	up := filetransfer.NewUploader(files.NewContext(cfg))
	for _, f := range fs {
		var m *files.FileMetadata
		var err error
		if len(f.data) > 8<<20 {
			var res *filetransfer.UploadResult
			res, err = up.Upload(context.Background(), filetransfer.BytesUpload(f.data), files.NewCommitInfo(f.path), filetransfer.UploadOptions{})
			if err == nil {
				m = res.Metadata
			}
		} else {
			m, err = c.Upload(files.NewUploadArg(f.path), bytes.NewReader(f.data))
		}
		if err != nil {
			t.Fatalf("upload %s: %v", f.path, err)
		}
		if m.PathDisplay != f.path || m.ContentHash != hashOf(t, f.data) {
			t.Fatalf("upload %s: got %s %s", f.path, m.PathDisplay, m.ContentHash)
		}
	}
}

// listAll lists the whole account with list_folder recursive and a small page size, so the
// cursor path is part of what a restart must not break.
func listAll(t *testing.T, cfg dropbox.Config) (fileMeta map[string]*files.FileMetadata, folders map[string]bool) {
	t.Helper()
	c := files.New(cfg)
	arg := files.NewListFolderArg("")
	arg.Recursive = true
	arg.Limit = 7
	res, err := c.ListFolder(arg)
	fileMeta, folders = map[string]*files.FileMetadata{}, map[string]bool{}
	for {
		if err != nil {
			t.Fatalf("list_folder: %v", err)
		}
		for _, e := range res.Entries {
			switch m := e.(type) {
			case *files.FileMetadata:
				fileMeta[m.PathDisplay] = m
			case *files.FolderMetadata:
				folders[m.PathDisplay] = true
			default:
				t.Fatalf("unexpected entry %T", e)
			}
		}
		if !res.HasMore {
			return fileMeta, folders
		}
		res, err = c.ListFolderContinue(files.NewListFolderContinueArg(res.Cursor))
	}
}

// checkTree asserts the account holds exactly want, with identical hashes and names, and
// every ancestor folder.
func checkTree(t *testing.T, cfg dropbox.Config, want []testFile) {
	t.Helper()
	got, folders := listAll(t, cfg)
	if len(got) != len(want) {
		var names []string
		for p := range got {
			names = append(names, p)
		}
		sort.Strings(names)
		t.Errorf("%d files listed, want %d: %v", len(got), len(want), names)
	}
	for _, f := range want {
		m := got[f.path]
		switch {
		case m == nil:
			t.Errorf("%s missing", f.path)
		case m.ContentHash != hashOf(t, f.data) || m.Size != uint64(len(f.data)):
			t.Errorf("%s: hash %s size %d, want %s %d", f.path, m.ContentHash, m.Size, hashOf(t, f.data), len(f.data))
		case m.PathLower != strings.ToLower(f.path):
			t.Errorf("%s: path_lower %s", f.path, m.PathLower)
		}
		for dir := path.Dir(f.path); dir != "/"; dir = path.Dir(dir) { // Dropbox paths: "/" on every OS
			if !folders[dir] {
				t.Errorf("folder %s missing", dir)
			}
		}
	}
}

func download(t *testing.T, cfg dropbox.Config, path string) []byte {
	t.Helper()
	_, body, err := files.New(cfg).Download(files.NewDownloadArg(path))
	if err != nil {
		t.Fatalf("download %s: %v", path, err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRestartKeepsTree is the acceptance test: upload a tree to the binary, stop it,
// start it again on the same --data, and find everything as it was.
func TestRestartKeepsTree(t *testing.T) {
	bin := buildEmulator(t)
	data, tmp := t.TempDir(), t.TempDir()
	tokenFile := filepath.Join(tmp, "token1")
	emu := startEmulator(t, bin, "--data", data, "--token-file", tokenFile)
	oldToken := readToken(t, tokenFile)
	fs := tree()
	uploadTree(t, emu.config(oldToken), fs)
	before, _ := listAll(t, emu.config(oldToken))
	emu.stop()

	newTokenFile := filepath.Join(tmp, "token2")
	emu = startEmulator(t, bin, "--data", data, "--token-file", newTokenFile)
	newToken := readToken(t, newTokenFile)
	if newToken == oldToken {
		t.Error("the restart wrote the old token again")
	}
	for name, tok := range map[string]string{"old": oldToken, "new": newToken} {
		acc, err := users.New(emu.config(tok)).GetCurrentAccount()
		if err != nil {
			t.Fatalf("%s token after restart: %v", name, err)
		}
		if acc.Email != "demo@example.com" {
			t.Errorf("%s token is for %s", name, acc.Email)
		}
	}

	cfg := emu.config(newToken)
	checkTree(t, cfg, fs)
	after, _ := listAll(t, cfg)
	for p, m := range before {
		// A restart is invisible to a client: ids and revs are what it stored last time.
		if a := after[p]; a == nil || a.Id != m.Id || a.Rev != m.Rev || !time.Time(a.ServerModified).Equal(time.Time(m.ServerModified)) {
			t.Errorf("%s changed across the restart: %+v -> %+v", p, m, a)
		}
	}
	for _, f := range fs {
		if f.path == "/Archief/Scans/Grote scan.tiff" || f.path == "/Klanten/Acme BV/leeg.txt" {
			if got := download(t, cfg, f.path); !bytes.Equal(got, f.data) {
				t.Errorf("download %s: %d bytes differ from the %d uploaded", f.path, len(got), len(f.data))
			}
		}
	}

	// Identical re-upload after the restart is a no-op that keeps the rev, so a client that
	// restarts does not rewrite what the emulator already has.
	m, err := files.New(cfg).Upload(files.NewUploadArg(fs[0].path), bytes.NewReader(fs[0].data))
	if err != nil {
		t.Fatalf("re-upload after restart: %v", err)
	}
	if m.Rev != before[fs[0].path].Rev {
		t.Errorf("re-upload after restart: rev %s, want %s", m.Rev, before[fs[0].path].Rev)
	}
	emu.stop()
}

// TestKillKeepsAcknowledged kills the emulator with SIGKILL while clients are uploading:
// every upload that was answered before the kill must be there after a restart, and any
// other file must be whole or absent, never corrupt.
func TestKillKeepsAcknowledged(t *testing.T) {
	bin := buildEmulator(t)
	data, tmp := t.TempDir(), t.TempDir()
	tokenFile := filepath.Join(tmp, "token")
	emu := startEmulator(t, bin, "--data", data, "--token-file", tokenFile)
	cfg := emu.config(readToken(t, tokenFile))

	var (
		mu    sync.Mutex
		acked []testFile
		tried = map[string][]byte{}
	)
	const workers = 4
	ackedEnough := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := files.New(cfg)
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; ; i++ {
				f := testFile{fmt.Sprintf("/Worker %d/Map %d/bestand-%04d.dat", w, i%3, i), make([]byte, rng.Intn(64<<10))}
				rng.Read(f.data)
				mu.Lock()
				tried[f.path] = f.data
				mu.Unlock()
				if _, err := c.Upload(files.NewUploadArg(f.path), bytes.NewReader(f.data)); err != nil {
					return // the emulator is gone
				}
				mu.Lock()
				acked = append(acked, f)
				if len(acked) == 60 {
					close(ackedEnough)
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-ackedEnough:
	case <-time.After(60 * time.Second):
		t.Fatal("uploads too slow")
	}
	emu.kill()
	wg.Wait()

	emu = startEmulator(t, bin, "--data", data, "--token-file", filepath.Join(tmp, "token2"))
	cfg = emu.config(readToken(t, filepath.Join(tmp, "token2")))
	got, _ := listAll(t, cfg)
	for _, f := range acked {
		if m := got[f.path]; m == nil || m.ContentHash != hashOf(t, f.data) {
			t.Errorf("acknowledged %s lost or changed after kill -9: %+v", f.path, m)
		}
	}
	for p, m := range got {
		if d, ok := tried[p]; !ok || m.ContentHash != hashOf(t, d) {
			t.Errorf("%s after kill -9 is not a file that was uploaded whole", p)
		}
	}
	if len(got) < len(acked) {
		t.Errorf("%d files after restart, %d acknowledged", len(got), len(acked))
	}
	emu.stop()
}

// TestTornJournal simulates a kill in the middle of writing the journal (a power cut, or a
// kill -9 during a large write): the torn record is dropped, and, the trap, what is written
// after the restart must not be glued onto it and lost at the next restart.
func TestTornJournal(t *testing.T) {
	bin := buildEmulator(t)
	data, tmp := t.TempDir(), t.TempDir()
	tok := filepath.Join(tmp, "token")
	emu := startEmulator(t, bin, "--data", data, "--token-file", tok)
	first := []testFile{{"/Voor/de kill.txt", []byte("acknowledged before the kill")}}
	uploadTree(t, emu.config(readToken(t, tok)), first)
	emu.kill()

	// The journal is the emulator's own format; a torn record is a prefix of a JSON line
	// without its newline.
	journal := filepath.Join(data, "journal.jsonl")
	f, err := os.OpenFile(journal, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("the test expects the journal at %s: %v", journal, err)
	}
	if _, err := f.WriteString(`{"op":"put","account_id":"dbid:AA`); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// The first record written after this restart is the token the binary issues at start.
	emu = startEmulator(t, bin, "--data", data, "--token-file", tok)
	secondToken := readToken(t, tok)
	cfg := emu.config(secondToken)
	checkTree(t, cfg, first)
	second := []testFile{{"/Na de kill.txt", []byte("acknowledged after the restart")}}
	uploadTree(t, cfg, second)
	emu.stop()

	emu = startEmulator(t, bin, "--data", data, "--token-file", filepath.Join(tmp, "token3"))
	if _, err := users.New(emu.config(secondToken)).GetCurrentAccount(); err != nil {
		t.Errorf("the token issued right after the torn record was lost: %v", err)
	}
	checkTree(t, emu.config(readToken(t, filepath.Join(tmp, "token3"))), append(first, second...))
	emu.stop()
}

// TestCursorAcrossRestart: sync clients keep their list_folder cursor between runs. After an
// emulator restart such a cursor may answer reset (Dropbox's "start over"), or continue the
// listing it came from, but must never hand out the entries of some other listing.
func TestCursorAcrossRestart(t *testing.T) {
	bin := buildEmulator(t)
	data, tmp := t.TempDir(), t.TempDir()
	tok := filepath.Join(tmp, "token")
	emu := startEmulator(t, bin, "--data", data, "--token-file", tok)
	var fs []testFile
	for _, dir := range []string{"/Oud", "/Nieuw"} {
		for i := range 3 {
			fs = append(fs, testFile{fmt.Sprintf("%s/%d.txt", dir, i), []byte(dir)})
		}
	}
	uploadTree(t, emu.config(readToken(t, tok)), fs)
	c := files.New(emu.config(readToken(t, tok)))
	arg := files.NewListFolderArg("/Oud")
	arg.Limit = 1
	res, err := c.ListFolder(arg)
	if err != nil || !res.HasMore {
		t.Fatalf("list_folder: %v %+v", err, res)
	}
	oldCursor := res.Cursor
	emu.stop()

	emu = startEmulator(t, bin, "--data", data, "--token-file", tok)
	c = files.New(emu.config(readToken(t, tok)))
	// New listings after the restart, enough to reuse any small cursor number.
	other := files.NewListFolderArg("/Nieuw")
	other.Limit = 1
	for range 50 {
		if _, err := c.ListFolder(other); err != nil {
			t.Fatal(err)
		}
	}
	res, err = c.ListFolderContinue(files.NewListFolderContinueArg(oldCursor))
	var le files.ListFolderContinueAPIError
	switch {
	case errors.As(err, &le) && le.EndpointError != nil && le.EndpointError.Tag == files.ListFolderContinueErrorReset:
		// Fine: the client lists again from scratch.
	case err != nil:
		t.Fatalf("continue with a cursor from before the restart: %v", err)
	default:
		for _, e := range res.Entries {
			if m, ok := e.(*files.FileMetadata); !ok || !strings.HasPrefix(m.PathDisplay, "/Oud/") {
				t.Errorf("a /Oud cursor from before the restart returned an entry of another listing: %T %v", e, pathOf(e))
			}
		}
	}
	emu.stop()
}

func pathOf(m files.IsMetadata) string {
	switch m := m.(type) {
	case *files.FileMetadata:
		return m.PathDisplay
	case *files.FolderMetadata:
		return m.PathDisplay
	case *files.DeletedMetadata:
		return m.PathDisplay
	}
	return fmt.Sprintf("%T", m)
}

// TestBadFlags checks the binary refuses what it cannot serve instead of starting half-way.
func TestBadFlags(t *testing.T) {
	bin := buildEmulator(t)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"--no-such-flag"}},
		{"data dir is a file", []string{"--data", blocker}},
		{"address in use or invalid", []string{"--addr", "256.0.0.1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, tc.args...).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("exit %v, want status 2\n%s", err, out)
			}
		})
	}
}

// getFaults reads the running emulator's fault switches.
func getFaults(t *testing.T, url string) dropboxemu.Faults {
	t.Helper()
	resp, err := http.Get(url + "/_emulator/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f dropboxemu.Faults
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestStrictProfile checks that --strict switches on the strict profile, that fault flags
// beside it override it, and that each new fault flag reaches the emulator.
func TestStrictProfile(t *testing.T) {
	bin := buildEmulator(t)
	tests := []struct {
		name string
		args []string
		want dropboxemu.Faults
	}{
		{"strict", []string{"--strict", "--seed", "7"}, dropboxemu.StrictFaults(7)},
		{"strict with overrides", []string{"--batch-contention", "0.3", "--strict", "--strict-args=false", "--max-arg-header", "4096"},
			func() dropboxemu.Faults {
				f := dropboxemu.StrictFaults(1)
				f.BatchContention, f.StrictArgs, f.MaxArgHeader = 0.3, false, 4096
				return f
			}()},
		{"each flag", []string{"--retry-after", "4", "--error-429-plain", "0.1", "--error-503", "0.2", "--batch-contention", "0.3",
			"--batch-internal-error", "0.05", "--commit-entry-cost", "3ms", "--max-arg-header", "8192", "--strict-args"},
			dropboxemu.Faults{Seed: 1, RetryAfter: 4, PlainTooManyRequests: 0.1, ServiceUnavailable: 0.2, BatchContention: 0.3,
				BatchInternalError: 0.05, CommitEntryCost: 3 * time.Millisecond, MaxArgHeader: 8192, StrictArgs: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := startEmulator(t, bin, tt.args...)
			if got := getFaults(t, emu.url); got != tt.want {
				t.Fatalf("faults\n got %+v\nwant %+v", got, tt.want)
			}
			emu.stop()
		})
	}
}

// TestRefuseFlag starts the binary with one account over its data transport limit and
// one suspended, and checks both through the SDK.
func TestRefuseFlag(t *testing.T) {
	bin := buildEmulator(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	emu := startEmulator(t, bin, "--account", "team@example.com", "--account", "gone@example.com", "--token-file", tokenFile,
		"--refuse", "team@example.com=data_transport_limit", "--refuse", "gone@example.com=user_suspended")
	cfg := emu.config(readToken(t, tokenFile))
	_, err := files.New(cfg).Upload(files.NewUploadArg("/a.pdf"), bytes.NewReader([]byte("a")))
	var ae auth.AccessAPIError
	if !errors.As(err, &ae) || ae.AccessError.Tag != auth.AccessErrorInvalidAccountType {
		t.Fatalf("upload over the data transport limit: %T %v", err, err)
	}
	if _, err := users.New(cfg).GetCurrentAccount(); err != nil {
		t.Fatalf("reads go on: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPut, emu.url+"/_emulator/refusal?account="+dropboxemu.AccountID("team@example.com"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("lift: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := files.New(cfg).Upload(files.NewUploadArg("/a.pdf"), bytes.NewReader([]byte("a"))); err != nil {
		t.Fatalf("upload after the limit was lifted: %v", err)
	}
	emu.stop()

	out, err := exec.Command(bin, "--addr", "127.0.0.1:0", "--refuse", "nobody").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--refuse") {
		t.Fatalf("bad --refuse: %v\n%s", err, out)
	}
}
