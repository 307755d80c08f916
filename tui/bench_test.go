package tui

import (
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

var (
	bigOnce  sync.Once
	bigStore *state.Store
)

// millionStore is the test incident plus 1,000,000 events.
func millionStore(b *testing.B) *state.Store {
	bigOnce.Do(func() {
		st := storeOf(b, incident(b))
		names := []string{"DescribeInstances", "RunInstances", "ListUsers", "GetCallerIdentity", "CreateAccessKey", "PutObject", "AssumeRole"}
		regions := []string{"us-east-1", "eu-west-1", "ap-southeast-3", "sa-east-1"}
		base := t0.Add(-48 * time.Hour)
		for i := range 1_000_000 {
			r := ctlog.Record{
				EventID:      fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
				EventTime:    base.Add(time.Duration(i) * 100 * time.Millisecond),
				EventName:    names[i%len(names)],
				EventSource:  "ec2.amazonaws.com",
				Region:       regions[i%len(regions)],
				PrincipalARN: fmt.Sprintf("arn:aws:iam::123456789012:user/u%d", i%50),
				AccessKeyID:  fmt.Sprintf("AKIA%016d", i%200),
				SourceIP:     fmt.Sprintf("203.0.113.%d", i%250),
				UserAgent:    "aws-cli/2",
			}
			if i%17 == 0 {
				r.ErrorCode = "AccessDenied"
			}
			st.Events.Add(&r, state.EventRef{Offset: int64(i), Index: 0})
		}
		bigStore = st
	})
	return bigStore
}

// BenchmarkFrame draws a whole frame with 1,000,000 events in the store:
// the stream shows the newest rows only.
func BenchmarkFrame(b *testing.B) {
	st := millionStore(b)
	for _, sz := range [][2]int{{80, 24}, {200, 60}, {400, 120}} {
		b.Run(fmt.Sprintf("1M/%dx%d", sz[0], sz[1]), func(b *testing.B) {
			m, _ := newTestModel(b, Options{Store: st}, sz[0], sz[1])
			m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkRefresh re-queries the stream over 1,000,000 events, as happens
// once per coalesced feed batch (not per frame).
func BenchmarkRefresh(b *testing.B) {
	st := millionStore(b)
	for _, filter := range []string{"", "region:eu-west-1 failed"} {
		b.Run(fmt.Sprintf("1M/%q", filter), func(b *testing.B) {
			m, _ := newTestModel(b, Options{Store: st}, 200, 60)
			f, err := state.ParseFilter(filter)
			if err != nil {
				b.Fatal(err)
			}
			if len(f.Terms) == 0 {
				f = nil
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				m.stream.SetFilter(filter, f)
				m.stream.Refresh(m.vctx())
			}
		})
	}
}
