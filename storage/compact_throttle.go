package storage

import (
	"context"
	"time"
)

// throttle paces a copy to a byte rate: after each chunk it waits until the
// bytes so far are no ahead of rate × elapsed time.
type throttle struct {
	rate  int64 // bytes a second; 0 means no limit
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	start time.Time
	bytes int64
}

func (v *Volume) newThrottle() *throttle {
	return &throttle{rate: v.compactRate, now: v.now, sleep: v.sleep, start: v.now()}
}

// wait accounts n more bytes and sleeps as long as the copy is ahead of its
// rate. It returns early with an error when ctx ends or done is closed.
func (t *throttle) wait(ctx context.Context, done <-chan struct{}, n int64) error {
	if t.rate <= 0 {
		return nil
	}
	t.bytes += n
	due := t.start.Add(time.Duration(float64(t.bytes) / float64(t.rate) * float64(time.Second)))
	ahead := due.Sub(t.now())
	if ahead <= 0 {
		return nil
	}
	select {
	case <-done:
		return ErrClosed
	default:
	}
	return t.sleep(ctx, ahead)
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
