package dropbox

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/contenthash"
)

// TestContentHashIsTheSDKs holds our copy-free hasher to the SDK's, at the block edges
// and written in pieces of every size.
func TestContentHashIsTheSDKs(t *testing.T) {
	const block = contenthash.BlockSize
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{0, 1, 4096, block - 1, block, block + 1, 2 * block, 2*block + 12345} {
		data := make([]byte, size)
		rng.Read(data)
		want, err := contenthash.Compute(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := ContentHash(bytes.NewReader(data)); got != want {
			t.Errorf("%d bytes: %s, the SDK %s", size, got, want)
		}
		h := newHasher()
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rng.Intn(3*block/2))
			h.Write(rest[:n])
			rest = rest[n:]
		}
		if got := h.hex(); got != want {
			t.Errorf("%d bytes in pieces: %s, the SDK %s", size, got, want)
		}
	}
}
