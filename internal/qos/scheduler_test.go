package qos

import "testing"

// Past MaxClasses, new callers share one class.
func TestClassesPastTheCapShareOne(t *testing.T) {
	s := newScheduler(1<<10, 2)
	for _, name := range []string{"a", "b", "c", "d"} {
		s.charge(name, 1)
	}
	if _, ok := s.classes[otherClass]; !ok || len(s.classes) != 3 {
		t.Fatalf("classes %v, want a, b and %q", s.classes, otherClass)
	}
}

// A budget that is not a multiple of the quantum is dealt so that neither
// of two backlogged classes is favoured over several refills.
func TestDealRemainderFavoursNoClass(t *testing.T) {
	s := newScheduler(100, 10)
	a, b := s.class("a"), s.class("b")
	var gotA, gotB int64
	for range 40 {
		order := []*class{a, b} // ring order from next, as refill builds it
		if s.ring[s.next] == b {
			order = []*class{b, a}
		}
		a.allowance, b.allowance = 0, 0
		s.deal(order, 350)
		if a.allowance+b.allowance != 350 {
			t.Fatalf("dealt %d, want 350", a.allowance+b.allowance)
		}
		gotA += a.allowance
		gotB += b.allowance
	}
	if d := gotA - gotB; d > 100 || d < -100 {
		t.Fatalf("over 40 refills of 350 with quantum 100: a got %d, b got %d", gotA, gotB)
	}
}
