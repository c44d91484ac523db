package cohort

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Shard is share Index of Count (1 ≤ Index ≤ Count) of a cohort's
// studies. The zero Shard holds every study.
type Shard struct {
	Index, Count int
}

// ErrShard reports a malformed shard ("i/n" with 1 ≤ i ≤ n).
var ErrShard = errors.New("cohort: shard must be i/n with 1 <= i <= n")

// ParseShard reads "i/n" (1-based: the Slurm array task 1 of 4 is "1/4");
// "" is the whole cohort.
func ParseShard(s string) (Shard, error) {
	if strings.TrimSpace(s) == "" {
		return Shard{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%w: %q", ErrShard, s)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("%w: %q", ErrShard, s)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "i/n", or "" for the whole cohort.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Has reports whether the study with the given key falls in the shard. The
// share depends on the key alone (the first 8 bytes of its SHA-256 modulo
// Count), so it is the same on every run and a study keeps its shard when
// others are added.
func (s Shard) Has(studyKey string) bool {
	if s.Count <= 1 {
		return true
	}
	return ShardOf(studyKey, s.Count) == s.Index
}

// ShardOf returns the 1-based shard of n that holds the study with the
// given key.
func ShardOf(studyKey string, n int) int {
	h := sha256.Sum256([]byte(studyKey))
	return int(binary.BigEndian.Uint64(h[:8])%uint64(n)) + 1
}
