package engine

import (
	"context"
	"time"
)

// Packing bounds: a packer sends at most packFiles files or packBytes bytes per
// UploadContents call, and waits at most packWait after the first file for more.
const (
	packFiles = 256
	packBytes = 16 << 20
	packWait  = 20 * time.Millisecond
)

// packers is how many packers run beside the workers: enough to keep a few requests in
// flight while the workers read and hash the next files.
func packers(concurrency int) int { return max(2, concurrency/4) }

// packer gathers small files from the workers and uploads their contents together (a
// start_batch and a few append_batch requests for a whole pack instead of one request per
// file), then hands them to the committer. At real latencies this, not bandwidth, is what
// bounds the initial copy of thousands of invoices.
type packer struct {
	r   *runner
	in  <-chan prepared
	out chan<- prepared
}

func (p packer) serve(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var pack []prepared
		select {
		case <-ctx.Done():
			return nil
		case first := <-p.in:
			pack = append(pack, first)
		}
		size := len(pack[0].data)
		timer.Reset(packWait)
	gather:
		for len(pack) < packFiles && size < packBytes {
			select {
			case <-ctx.Done():
				return nil
			case next := <-p.in:
				pack = append(pack, next)
				size += len(next.data)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		for _, done := range p.upload(ctx, pack) {
			select {
			case p.out <- done:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// upload sends a pack and returns each file either ready to commit or with its outcome.
func (p packer) upload(ctx context.Context, pack []prepared) []prepared {
	datas := make([]([]byte), len(pack))
	for i, it := range pack {
		datas[i] = it.data
	}
	res, err := p.r.c.Remote.UploadContents(ctx, datas)
	w := worker{r: p.r}
	out := make([]prepared, len(pack))
	for i, it := range pack {
		e := err
		if e == nil {
			e = res[i].Err
		}
		if e != nil {
			out[i] = w.failed(it.path, it.attempts, it.rec, e)
			continue
		}
		it.data = nil // the content is at Dropbox now; let it go
		c := *it.commit
		c.SessionID = res[i].SessionID
		it.commit = &c
		out[i] = it
	}
	return out
}
