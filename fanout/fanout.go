// Package fanout hands events to the live streams of one process (a member's
// inbox, a hall's display board) by key. It never blocks the publisher: a
// stream too slow to take an event misses it, so what is published must
// also be readable again from where it is kept.
package fanout

import "sync"

// Set is the streams waiting for events of V, by K. Its zero value is ready.
type Set[K comparable, V any] struct {
	mu   sync.Mutex
	subs map[K]map[chan V]struct{}
}

// Subscribe registers a stream for k with room for buffer events; the
// returned function unregisters it.
func (s *Set[K, V]) Subscribe(k K, buffer int) (<-chan V, func()) {
	ch := make(chan V, buffer)
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[K]map[chan V]struct{}{}
	}
	if s.subs[k] == nil {
		s.subs[k] = map[chan V]struct{}{}
	}
	s.subs[k][ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs[k], ch)
		if len(s.subs[k]) == 0 {
			delete(s.subs, k)
		}
		s.mu.Unlock()
	}
}

// Wanted says whether a stream waits for k.
func (s *Set[K, V]) Wanted(k K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs[k]) > 0
}

// Publish passes v to every stream of k that has room for it.
func (s *Set[K, V]) Publish(k K, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs[k] {
		select {
		case ch <- v:
		default:
		}
	}
}
