package qos

import "sync"

// otherClass collects the callers past MaxClasses.
const otherClass = "other"

// scheduler deals the instance's budget to classes by deficit round robin;
// see the package documentation. All methods are safe for concurrent use.
type scheduler struct {
	quantum    int64
	maxClasses int

	mu      sync.Mutex
	classes map[string]*class
	ring    []*class // DRR order
	next    int      // where the next round starts in ring
	owedTo  *class   // the class whose turn the last refill cut short
	owed    int64    // what is left of that turn
	spare   int64    // tokens no class needed, at most one refill's worth
	waiting int      // waiters queued, all classes
	stats   schedStats
}

// class is one fairness class's account.
type class struct {
	name      string
	allowance int64     // bytes it may read before waiting; negative = debt
	spent     int64     // bytes charged since the last refill
	waiters   []*waiter // in arrival order
	idle      int       // refills in a row without any read
}

// waiter is one read waiting for its class to pay for it.
type waiter struct {
	n     int64
	ready chan struct{}
	done  bool // granted or abandoned (guarded by scheduler.mu)
}

type schedStats struct {
	passed, delayed, failOpen int64
}

// classIdleRefills is how many refills without a read drop a class.
const classIdleRefills = 20

func newScheduler(quantum int64, maxClasses int) *scheduler {
	return &scheduler{quantum: quantum, maxClasses: maxClasses, classes: make(map[string]*class)}
}

// charge accounts n bytes read by name. It returns nil when they are paid
// for at once, or a waiter to wait on.
func (s *scheduler) charge(name string, n int64) *waiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.class(name)
	c.idle = 0
	s.stats.passed += n
	if !c.hasWaiters() {
		switch {
		case c.allowance > 0:
			c.allowance -= n
			c.spent += n
			return nil
		case s.spare > 0:
			s.spare -= n
			c.spent += n
			return nil
		}
	}
	s.stats.delayed += n
	w := &waiter{n: n, ready: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	s.waiting++
	return w
}

// class returns the account of name, making it if needed.
func (s *scheduler) class(name string) *class {
	if c, ok := s.classes[name]; ok {
		return c
	}
	if len(s.classes) >= s.maxClasses && name != otherClass {
		name = otherClass
		if c, ok := s.classes[name]; ok {
			return c
		}
	}
	c := &class{name: name}
	s.classes[name] = c
	s.ring = append(s.ring, c)
	return c
}

// abandon gives up on w (timeout or cancelled caller). Its bytes stay
// charged to the class, as debt, so the long-run rate still holds. It
// reports whether w was abandoned (false: it had been granted meanwhile).
func (s *scheduler) abandon(name string, w *waiter, failOpen bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.done {
		return false
	}
	w.done = true
	s.waiting--
	if c, ok := s.classes[name]; ok {
		c.allowance -= w.n
		c.spent += w.n
	}
	if failOpen {
		s.stats.failOpen++
	}
	return true
}

// refill deals budget bytes out (capacity bounds the spare kept) and
// wakes the waiters their classes can now pay for.
func (s *scheduler) refill(budget, capacity int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropIdle()
	var backlogged []*class
	for i := range s.ring {
		c := s.ring[(s.next+i)%len(s.ring)]
		if c.hasWaiters() || (c.spent > 0 && c.allowance <= 0) {
			backlogged = append(backlogged, c)
		}
	}
	avail := budget + s.spare
	s.spare = 0
	if len(backlogged) == 0 {
		s.spare = min(avail, capacity)
	}
	s.deal(backlogged, avail)
	for _, c := range s.ring {
		if c.spent == 0 && !c.hasWaiters() {
			c.idle++
		}
		c.spent = 0
		s.grant(c)
	}
}

// deal gives avail to the backlogged classes in Quantum-sized turns,
// starting where the previous refill stopped. A turn cut short by the end
// of the budget is finished first at the next refill, so the remainder of
// a budget that is not a multiple of the quantum favours no class.
func (s *scheduler) deal(backlogged []*class, avail int64) {
	for i := 0; avail > 0 && len(backlogged) > 0; i++ {
		c := backlogged[i%len(backlogged)]
		turn := s.quantum
		if i == 0 && s.owedTo == c && s.owed > 0 {
			turn = s.owed
		}
		s.owedTo, s.owed = nil, 0
		give := min(turn, avail)
		c.allowance += give
		avail -= give
		if give < turn {
			s.owedTo, s.owed = c, turn-give
			s.next = s.indexOf(c)
			return
		}
		if avail == 0 {
			s.next = (s.indexOf(c) + 1) % len(s.ring)
		}
	}
}

func (s *scheduler) indexOf(c *class) int {
	for i, r := range s.ring {
		if r == c {
			return i
		}
	}
	return 0
}

// grant wakes c's waiters, in order, while c has allowance.
func (s *scheduler) grant(c *class) {
	for len(c.waiters) > 0 && c.allowance > 0 {
		w := c.waiters[0]
		c.waiters = c.waiters[1:]
		if w.done {
			continue
		}
		w.done = true
		s.waiting--
		c.allowance -= w.n
		c.spent += w.n
		close(w.ready)
	}
	c.waiters = dropDone(c.waiters)
}

func (c *class) hasWaiters() bool {
	for _, w := range c.waiters {
		if !w.done {
			return true
		}
	}
	return false
}

func dropDone(ws []*waiter) []*waiter {
	out := ws[:0]
	for _, w := range ws {
		if !w.done {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// dropIdle forgets classes that read nothing for classIdleRefills refills.
func (s *scheduler) dropIdle() {
	kept := s.ring[:0]
	for _, c := range s.ring {
		if c.idle >= classIdleRefills && !c.hasWaiters() {
			delete(s.classes, c.name)
			if s.owedTo == c {
				s.owedTo, s.owed = nil, 0
			}
			continue
		}
		kept = append(kept, c)
	}
	clear(s.ring[len(kept):])
	s.ring = kept
	if len(s.ring) == 0 || s.next >= len(s.ring) {
		s.next = 0
	}
}

// releaseAll lets every waiter go (the limiter stopped).
func (s *scheduler) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.ring {
		for _, w := range c.waiters {
			if !w.done {
				w.done = true
				s.waiting--
				close(w.ready)
			}
		}
		c.waiters = nil
	}
}

// snapshot returns the counters, the number of classes and of waiters.
func (s *scheduler) snapshot() (schedStats, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats, len(s.classes), s.waiting
}
