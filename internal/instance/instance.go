// Package instance keeps one copy of the app running per user: a second launch brings the
// first one's window to the front and exits.
//
// Two mechanisms work together in a directory private to the user:
//
//   - instance.lock carries an OS file lock (flock on Unix, LockFileEx on Windows) held by the
//     running instance. The lock, not a probe, decides who is primary: the OS drops it the
//     moment a process dies, so a crashed instance never blocks the next launch, and two
//     launches racing each other (a double click) cannot both win, which a "probe the old
//     one, then take over" scheme cannot promise.
//   - instance.json says where the running instance listens: a loopback TCP port (Windows
//     has no unix sockets on every supported version) and a random secret, so nothing but
//     a process that can read the user's 0600 file (on Windows: the per-user profile's ACL)
//     can make the app show itself. It is written atomically and removed by Close.
//
// A file left behind by a crashed process is stale by definition (its lock is free) and is
// simply replaced.
package instance

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrRunning is returned by Acquire when another instance holds dir and has been asked to
// show itself. The caller should exit successfully.
var ErrRunning = errors.New("another instance is running")

const (
	lockName = "instance.lock"
	infoName = "instance.json"

	// answerTimeout bounds one exchange with the running instance, and how long the running
	// instance waits for a caller's request, so a stuck peer holds neither side for long.
	answerTimeout = time.Second
	// maxRequest bounds what the listener reads; a request is "show <64 hex>\n".
	maxRequest = 128
)

// waitForPrimary is how long Acquire keeps asking a lock holder that does not answer yet:
// it may be between taking the lock and writing instance.json, or closing. A variable so
// tests can shorten it.
var waitForPrimary = 3 * time.Second

// Instance is the running, primary instance. It listens for later launches until Close.
type Instance struct {
	dir    string
	lock   *os.File
	ln     net.Listener
	secret string
	onShow func()
	done   chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// info is the content of instance.json.
type info struct {
	Addr   string `json:"addr"`
	Secret string `json:"secret"`
	PID    int    `json:"pid"` // for people reading the file; never trusted
}

// Acquire makes this process the user's instance, using dir (created 0700 if missing) for
// the lock and the address file. dir must be the same for every launch of the same user,
// e.g. under os.UserConfigDir.
//
// If another live instance holds dir, Acquire asks it to show itself and returns an error
// wrapping ErrRunning. If the holder does not answer within a few seconds, the error does
// not wrap ErrRunning: something holds the lock but the app was not brought to the front.
// Acquire blocks for at most about that long and takes no context, since it runs once,
// before anything else in main.
//
// onShow (may be nil) is called on the listener's goroutine each time a later launch asks,
// one call at a time, after that launch has been answered; it must not block for long, must
// not call Close, and must hand UI work to the UI thread (fyne.Do).
func Acquire(dir string, onShow func()) (*Instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("acquire instance: create %s: %w", dir, err)
	}
	deadline := time.Now().Add(waitForPrimary)
	for {
		lock, err := tryLock(filepath.Join(dir, lockName))
		if err == nil {
			in, err := start(dir, lock, onShow)
			if err != nil {
				unlock(lock)
				return nil, fmt.Errorf("acquire instance in %s: %w", dir, err)
			}
			return in, nil
		}
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("acquire instance in %s: %w", dir, err)
		}
		err = requestShow(dir)
		if err == nil {
			return nil, fmt.Errorf("acquire instance in %s: %w", dir, ErrRunning)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("acquire instance in %s: it is locked but the running instance does not answer: %w", dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// start runs the listener of the new primary and publishes its address.
func start(dir string, lock *os.File, onShow func()) (*Instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	var raw [32]byte
	rand.Read(raw[:]) // never returns an error (crypto/rand, Go 1.24+)
	in := &Instance{
		dir:    dir,
		lock:   lock,
		ln:     ln,
		secret: hex.EncodeToString(raw[:]),
		onShow: onShow,
		done:   make(chan struct{}),
	}
	b, _ := json.Marshal(info{Addr: ln.Addr().String(), Secret: in.secret, PID: os.Getpid()})
	if err := writeFileAtomic(filepath.Join(dir, infoName), b); err != nil {
		ln.Close()
		return nil, err
	}
	go in.serve()
	return in, nil
}

// Close stops listening, removes instance.json and releases the lock, in that order, so the
// next primary's file is never removed by this one. It is safe to call more than once and
// from any goroutine except onShow's.
func (in *Instance) Close() error {
	in.closeOnce.Do(func() {
		var errs []error
		if err := in.ln.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close listener: %w", err))
		}
		<-in.done
		path := filepath.Join(in.dir, infoName)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", path, err))
		}
		// The lock file itself stays: removing it would let a launch that already opened it
		// lock the deleted file while another locks a new one, and both would be primary.
		if err := unlock(in.lock); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", in.lock.Name(), err))
		}
		if err := errors.Join(errs...); err != nil {
			in.closeErr = fmt.Errorf("close instance in %s: %w", in.dir, err)
		}
	})
	return in.closeErr
}

// serve answers later launches one at a time until the listener is closed.
func (in *Instance) serve() {
	defer close(in.done)
	for {
		c, err := in.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of file descriptors and the like: back off rather than spin.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if in.answer(c) && in.onShow != nil {
			in.onShow()
		}
	}
}

// answer handles one connection and reports whether it was a valid show request.
// A wrong request gets no reply at all, so a probe learns nothing.
func (in *Instance) answer(c net.Conn) bool {
	defer c.Close()
	c.SetDeadline(time.Now().Add(answerTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, maxRequest)).ReadString('\n')
	if err != nil {
		return false
	}
	want := "show " + in.secret + "\n"
	if subtle.ConstantTimeCompare([]byte(line), []byte(want)) != 1 {
		return false
	}
	_, err = io.WriteString(c, "ok\n")
	return err == nil
}

// requestShow asks the instance described in dir's instance.json to show itself.
func requestShow(dir string) error {
	inf, err := readInfo(dir)
	if err != nil {
		return err
	}
	c, err := net.DialTimeout("tcp", inf.Addr, answerTimeout)
	if err != nil {
		return fmt.Errorf("dial %s: %w", inf.Addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(answerTimeout))
	if _, err := io.WriteString(c, "show "+inf.Secret+"\n"); err != nil {
		return fmt.Errorf("send show to %s: %w", inf.Addr, err)
	}
	reply, err := bufio.NewReader(io.LimitReader(c, maxRequest)).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read answer from %s: %w", inf.Addr, err)
	}
	if reply != "ok\n" {
		return fmt.Errorf("answer from %s: unexpected %q", inf.Addr, reply)
	}
	return nil
}

func readInfo(dir string) (info, error) {
	path := filepath.Join(dir, infoName)
	b, err := os.ReadFile(path)
	if err != nil {
		return info{}, fmt.Errorf("read %s: %w", path, err)
	}
	var inf info
	if err := json.Unmarshal(b, &inf); err != nil {
		return info{}, fmt.Errorf("parse %s: %w", path, err)
	}
	// Only ever dial loopback, whatever the file says.
	host, _, err := net.SplitHostPort(inf.Addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return info{}, fmt.Errorf("parse %s: address %q is not loopback", path, inf.Addr)
	}
	return inf, nil
}

// writeFileAtomic writes data to path with mode 0600 through a temp file and a rename, so a
// reader sees the old file or the whole new one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".instance-*") // CreateTemp uses mode 0600
	if err != nil {
		return fmt.Errorf("create temp file in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	// On Windows a launch reading the old file at this moment makes the rename fail with a
	// sharing violation; it holds the file for microseconds, so try again briefly.
	for i := 0; ; i++ {
		err = os.Rename(tmp, path)
		if err == nil || i == 10 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return nil
}
