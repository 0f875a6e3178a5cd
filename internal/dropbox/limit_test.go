package dropbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
)

// TestLimiterCountsEveryUploadByte sends small files in batches and a large file in
// chunks through one shared Limiter: every byte of file contents the emulator received went
// through the limiter, and no byte of the JSON calls did.
func TestLimiterCountsEveryUploadByte(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testLimiterCountsEveryUploadByte)
}

func testLimiterCountsEveryUploadByte(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	lim := NewLimiter(0)
	c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: e.URL, Limiter: lim})
	ctx := context.Background()

	rnd := rand.New(rand.NewSource(5))
	var datas [][]byte
	var small int64
	for i := range 20 {
		d := make([]byte, 10_000+i*997)
		rnd.Read(d)
		datas = append(datas, d)
		small += int64(len(d))
	}
	res, err := c.UploadContents(ctx, datas)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	big := make([]byte, 9<<20+3) // three chunks of the SDK's uploader
	rnd.Read(big)
	p := filepath.Join(t.TempDir(), "big.pdf")
	if err := os.WriteFile(p, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadLarge(ctx, localFile(t, p), "/Acme/big.pdf", nil); err != nil {
		t.Fatal(err)
	}

	want := small + int64(len(big))
	var received int64
	for route, st := range e.Srv.Stats() {
		switch route {
		case "files/upload_session/append_batch", "files/upload_session/start",
			"files/upload_session/append_v2", "files/upload_session/finish", "files/upload":
			received += st.BytesIn
		}
	}
	if lim.Passed() != want || received != want {
		t.Fatalf("limiter let %d bytes through, the emulator received %d of file contents, sent %d", lim.Passed(), received, want)
	}
}

// TestLimiterHoldsUploadsBack caps uploads at 1 KiB/s: the first burst passes, then the
// upload waits for tokens until its context ends, having sent no more than the burst.
// Raising the cap lets the same upload through at once, also on the same client.
func TestLimiterHoldsUploadsBack(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testLimiterHoldsUploadsBack)
}

func testLimiterHoldsUploadsBack(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	lim := NewLimiter(1 << 10)
	if lim.Limit() != 1<<10 {
		t.Fatalf("limit %d", lim.Limit())
	}
	c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: e.URL, Limiter: lim, Retries: 1})
	data := make([]byte, 4*limitBurst)
	rand.New(rand.NewSource(6)).Read(data)

	// At 1 KiB/s the 192 KiB after the first burst take three minutes: the deadline is
	// only a bound on how long the test waits, never what it checks.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := c.UploadContent(ctx, data)
	cancel()
	if err == nil {
		t.Fatal("a capped upload went through")
	}
	if !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		t.Fatalf("failed otherwise: %v", err)
	}
	if lim.Passed() > limitBurst {
		t.Fatalf("%d bytes let through, more than the burst of %d", lim.Passed(), limitBurst)
	}

	lim.SetLimit(0)
	if lim.Limit() != 0 {
		t.Fatalf("limit %d after lifting it", lim.Limit())
	}
	if _, err := c.UploadContent(context.Background(), data); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkBandwidthCap sends 8 MiB of 64 KiB files (packed uploads, as the engine sends
// small documents) through a Limiter capped at the sub-benchmark's rate, over an emulated
// Dropbox that answers after 50 ms, and reports the throughput reached: it should sit at
// the cap (the first 64 KiB burst comes free), and with no cap show what the cap holds back.
func BenchmarkBandwidthCap(b *testing.B) {
	const size, files = 64 << 10, 128
	rnd := rand.New(rand.NewSource(7))
	datas := make([][]byte, files)
	for i := range datas {
		datas[i] = make([]byte, size)
		rnd.Read(datas[i])
	}
	for _, mbit := range []int64{8, 20, 0} {
		name := fmt.Sprintf("%dMbit", mbit)
		if mbit == 0 {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			env := emutest.Start(b, dropboxemu.Options{Faults: dropboxemu.Faults{Latency: 50 * time.Millisecond}},
				dropboxemu.AccountInfo{Email: "bench@acme.be", GivenName: "Bench", Surname: "Acme"})
			lim := NewLimiter(mbit * 1_000_000 / 8)
			c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: env.Token}), Options{BaseURL: env.URL, Limiter: lim})
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				res, err := c.UploadContents(context.Background(), datas)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			b.ReportMetric(float64(lim.Passed())*8/1e6/time.Since(start).Seconds(), "Mbit/s")
		})
	}
}
