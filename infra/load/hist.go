package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram is a fixed-size log-linear (HDR-style) latency histogram.
//
// Values are recorded in nanoseconds. Values below 2*histSubCount land in
// exact one-nanosecond buckets; above that, every power-of-two range
// [2^k, 2^(k+1)) is split into histSubCount equal linear sub-buckets. A
// bucket's width is therefore at most 1/histSubCount (0.78%) of its lower
// bound, and reporting the bucket midpoint keeps every percentile within
// ~0.4% of the true sample value. Memory is constant (histBuckets counters)
// no matter how many values are recorded, so one histogram per worker is
// cheap and they merge by plain addition.
//
// A histogram is not safe for concurrent use; each worker owns one.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    float64 // nanoseconds, for the mean
	min    int64   // nanoseconds; valid when n > 0
	max    int64   // nanoseconds; valid when n > 0
}

const (
	histSubBits  = 7
	histSubCount = 1 << histSubBits // linear sub-buckets per power of two
	// histMaxShift bounds the range: the last bucket ends at
	// 2^(histMaxShift+histSubBits+1) ns = 2^41 ns ≈ 36 minutes, far beyond
	// any sane -timeout. Larger values are clamped into the last bucket
	// (the exact maximum is still tracked separately).
	histMaxShift = 33
	histBuckets  = (histMaxShift + 2) << histSubBits // 4480 counters, 35 KiB
)

// bucketIndex maps a value to its bucket. With shift = max(0, bitlen(v)-8),
// the bucket is shift*128 + (v >> shift); for shift >= 1 the mantissa
// v>>shift lies in [128, 256), so buckets of consecutive shifts tile
// without gaps or overlap.
func bucketIndex(v uint64) int {
	shift := bits.Len64(v) - histSubBits - 1
	if shift < 0 {
		shift = 0
	}
	if shift > histMaxShift {
		return histBuckets - 1
	}
	return shift<<histSubBits + int(v>>uint(shift))
}

// bucketRange returns the smallest value of bucket i and the bucket width.
func bucketRange(i int) (lo, width uint64) {
	if i < 2*histSubCount {
		return uint64(i), 1
	}
	shift := uint(i>>histSubBits - 1)
	mantissa := uint64(i&(histSubCount-1) + histSubCount)
	return mantissa << shift, 1 << shift
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if h.n == 0 || v > h.max {
		h.max = v
	}
	h.counts[bucketIndex(uint64(v))]++
	h.n++
	h.sum += float64(v)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if h.n == 0 || o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
}

func (h *histogram) count() uint64 { return h.n }

func (h *histogram) minimum() time.Duration { return time.Duration(h.min) }

func (h *histogram) maximum() time.Duration { return time.Duration(h.max) }

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// quantile returns the q-quantile (0 <= q <= 1) using the nearest-rank
// definition: the smallest recorded value v such that at least q*n values
// are <= v. The answer is the midpoint of the bucket holding that value,
// clamped to the exact recorded min and max.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return time.Duration(h.min)
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	// The epsilon keeps e.g. 0.999*1000 = 999.0000000000001 at rank 999.
	rank := uint64(math.Ceil(q*float64(h.n) - 1e-9))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum < rank {
			continue
		}
		lo, w := bucketRange(i)
		v := int64(lo + (w-1)/2)
		v = max(v, h.min)
		v = min(v, h.max)
		return time.Duration(v)
	}
	return time.Duration(h.max)
}
