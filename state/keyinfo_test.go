package state

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

func TestStoreKeyInfo(t *testing.T) {
	tests := []struct {
		name string
		v    KeyInfo
		sum  string
	}{
		{"ours", KeyInfo{AccessKeyID: "AKIAOURS", Account: "111122223333", Ours: true, UserName: "ci"}, "key AKIAOURS is ours (user ci)"},
		{"foreign", KeyInfo{AccessKeyID: "AKIAFOREIGN", Account: "444455556666"}, "key AKIAFOREIGN belongs to account 444455556666"},
		{"unknown", KeyInfo{AccessKeyID: "AKIAUNKNOWN"}, "key AKIAUNKNOWN: owner unknown"},
	}
	s := NewStore()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			e := journal.Entry{Seq: int64(i + 1), At: time.Unix(int64(i), 0), Kind: string(KindKeyInfo), Data: data}
			if err := s.Apply(e); err != nil {
				t.Fatal(err)
			}
			got, ok := s.KeyInfos[tt.v.AccessKeyID]
			if !ok || got.V.Account != tt.v.Account || got.Seq != e.Seq {
				t.Errorf("KeyInfos[%s] = %+v", tt.v.AccessKeyID, got)
			}
			if last := s.Timeline[len(s.Timeline)-1].Summary; last != tt.sum {
				t.Errorf("timeline %q, want %q", last, tt.sum)
			}
		})
	}
}
