package instance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The test binary doubles as the "other process": with helperEnv set it runs one Acquire in
// the directory given by dirEnv instead of the tests.
const (
	helperEnv = "INSTANCE_TEST_HELPER"
	dirEnv    = "INSTANCE_TEST_DIR"

	exitRunning = 3 // the helper got ErrRunning
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "second":
		// A second launch: exit 3 after handing over, 0 if it became primary itself.
		in, err := Acquire(os.Getenv(dirEnv), nil)
		if errors.Is(err, ErrRunning) {
			os.Exit(exitRunning)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		in.Close()
		os.Exit(0)
	case "hold":
		// A primary that stays up until killed, reporting each show on stdout.
		_, err := Acquire(os.Getenv(dirEnv), func() { fmt.Println("shown") })
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ready")
		select {}
	}
}

func helper(t *testing.T, mode, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, dirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	return cmd
}

// showCounter is an onShow that counts calls and signals each one.
type showCounter struct {
	n  atomic.Int32
	ch chan struct{}
}

func newShowCounter() *showCounter { return &showCounter{ch: make(chan struct{}, 16)} }

func (s *showCounter) show() { s.n.Add(1); s.ch <- struct{}{} }

func (s *showCounter) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("onShow was not called")
	}
}

func mustAcquire(t *testing.T, dir string, onShow func()) *Instance {
	t.Helper()
	in, err := Acquire(dir, onShow)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

func TestSecondAcquireHandsOver(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shows := newShowCounter()
	mustAcquire(t, dir, shows.show)

	for i := range 2 {
		_, err := Acquire(dir, func() { t.Error("second instance's onShow called") })
		if !errors.Is(err, ErrRunning) {
			t.Fatalf("second Acquire #%d: err = %v, want ErrRunning", i, err)
		}
		shows.wait(t)
	}
	if n := shows.n.Load(); n != 2 {
		t.Errorf("onShow called %d times, want 2", n)
	}
}

func TestSecondProcessHandsOver(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shows := newShowCounter()
	mustAcquire(t, dir, shows.show)

	err := helper(t, "second", dir).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitRunning {
		t.Fatalf("second process: %v, want exit code %d (ErrRunning)", err, exitRunning)
	}
	shows.wait(t)
}

func TestTakeOverFromKilledProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := helper(t, "hold", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		t.Fatalf("helper did not become primary: %q", lines.Text())
	}

	// While it lives, this process hands over to it.
	if _, err := Acquire(dir, nil); !errors.Is(err, ErrRunning) {
		cmd.Process.Kill()
		t.Fatalf("Acquire while the other process runs: %v, want ErrRunning", err)
	}
	if !lines.Scan() || lines.Text() != "shown" {
		t.Errorf("other process did not report a show: %q", lines.Text())
	}

	// Killed without Close: instance.json stays behind and points at a dead port.
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, infoName)); err != nil {
		t.Fatalf("killed process left no instance.json to take over: %v", err)
	}
	start := time.Now()
	in := mustAcquire(t, dir, nil)
	if d := time.Since(start); d > time.Second {
		t.Errorf("takeover took %v; a dead holder should not be waited for", d)
	}
	inf, err := readInfo(dir)
	if err != nil || inf.Addr != in.ln.Addr().String() {
		t.Errorf("instance.json = %+v, %v; want this instance's address", inf, err)
	}
}

func TestStaleFileTakenOver(t *testing.T) {
	t.Parallel()
	// An address that accepts but never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// An address nobody listens on any more.
	gone, _ := net.Listen("tcp", "127.0.0.1:0")
	goneAddr := gone.Addr().String()
	gone.Close()

	for _, tc := range []struct{ name, content string }{
		{"refused", `{"addr":"` + goneAddr + `","secret":"00","pid":1}`},
		{"no answer", `{"addr":"` + silent.Addr().String() + `","secret":"00","pid":1}`},
		{"garbage", "not json"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, infoName), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			shows := newShowCounter()
			mustAcquire(t, dir, shows.show)
			if d := time.Since(start); d > time.Second {
				t.Errorf("takeover took %v", d)
			}
			// The file now leads to this instance.
			if err := requestShow(dir); err != nil {
				t.Fatalf("show through the rewritten file: %v", err)
			}
			shows.wait(t)
		})
	}
}

func TestWrongRequestRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shows := newShowCounter()
	mustAcquire(t, dir, shows.show)
	inf, err := readInfo(dir)
	if err != nil {
		t.Fatal(err)
	}

	// send writes req and half-closes, so the listener sees the end of the request at once
	// instead of waiting out its deadline.
	send := func(req string) string {
		c, err := net.Dial("tcp", inf.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, req)
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		reply, _ := io.ReadAll(c)
		return string(reply)
	}
	for _, tc := range []struct{ name, req string }{
		{"wrong secret", "show " + fmt.Sprintf("%064x", 1) + "\n"},
		{"secret prefix", "show " + inf.Secret[:32] + "\n"},
		{"no secret", "show\n"},
		{"other verb", "quit " + inf.Secret + "\n"},
		{"no newline", "show " + inf.Secret},
		{"empty", ""},
		{"oversized", "show " + inf.Secret + string(make([]byte, 4096)) + "\n"},
	} {
		if reply := send(tc.req); reply != "" {
			t.Errorf("%s: reply %q, want none", tc.name, reply)
		}
	}
	// A client that connects and says nothing holds the listener only until its deadline.
	silent, err := net.Dial("tcp", inf.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	if reply := send("show " + inf.Secret + "\n"); reply != "ok\n" {
		t.Fatalf("right secret after a silent client: reply %q, want ok", reply)
	}
	if d := time.Since(start); d > 2*answerTimeout {
		t.Errorf("answer took %v behind a silent client", d)
	}
	shows.wait(t)
	if n := shows.n.Load(); n != 1 {
		t.Fatalf("onShow called %d times, want 1 (refused requests must not show)", n)
	}
}

func TestCloseCleansUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in, err := Acquire(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, infoName))
	if err != nil {
		t.Fatal(err)
	}
	// Windows has no permission bits (Go reports 0666): there the file is private by the
	// ACL of the user's profile folder it lives in.
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("instance.json mode = %v, want 0600", fi.Mode().Perm())
	}
	addr := in.ln.Addr().String()

	for range 2 {
		if err := in.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, infoName)); !os.IsNotExist(err) {
		t.Errorf("instance.json after Close: %v, want not exist", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts after Close", addr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != lockName {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	// The lock is free again.
	mustAcquire(t, dir, nil)
}

func TestAcquireCreatesPrivateDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	mustAcquire(t, dir, nil)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no permission bits (Go reports 0777); the folder is private by the ACL of the user's profile")
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", fi.Mode().Perm())
	}
}

func TestConcurrentLaunchesOneWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     []*Instance
		running int
		shows   atomic.Int32
	)
	for range 8 {
		wg.Go(func() {
			in, err := Acquire(dir, func() { shows.Add(1) })
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, in)
			case errors.Is(err, ErrRunning):
				running++
			default:
				t.Errorf("Acquire: %v", err)
			}
		})
	}
	wg.Wait()
	for _, in := range won {
		in.Close() // also waits for the last onShow
	}
	if len(won) != 1 || running != 7 {
		t.Fatalf("%d primaries and %d handed over, want 1 and 7", len(won), running)
	}
	if n := shows.Load(); n != 7 {
		t.Errorf("onShow called %d times, want 7", n)
	}
}

func TestLockedButSilentIsNotErrRunning(t *testing.T) {
	// Not parallel: it shortens the package-wide wait.
	old := waitForPrimary
	waitForPrimary = 300 * time.Millisecond
	t.Cleanup(func() { waitForPrimary = old })

	dir := t.TempDir()
	lock, err := tryLock(filepath.Join(dir, lockName)) // a holder that never publishes
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(lock)

	_, err = Acquire(dir, nil)
	if err == nil || errors.Is(err, ErrRunning) {
		t.Fatalf("Acquire = %v, want an error that is not ErrRunning", err)
	}
}
