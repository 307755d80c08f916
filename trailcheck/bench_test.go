package trailcheck_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/trailcheck"
	"github.com/warroom-ir/warroom/trailcheck/trailtest"
)

// BenchmarkValidateDay validates a day of one account's trail in one
// Region as a downloaded folder: 24 signed digests over ~2,000 log files
// of aws/sim/gen records, ~500 MB uncompressed.
func BenchmarkValidateDay(b *testing.B) {
	dir := b.TempDir()
	logs := filepath.Join(dir, "gen")
	const account = "111122223333"
	st, err := gen.Write(logs, gen.Options{Events: 470_000, Seed: 17, AccountID: account, End: day.Add(24*time.Hour - 10*time.Minute),
		Rate: 470_000.0 / 86400, Regions: []string{"us-east-1"}, PerFile: 235})
	if err != nil {
		b.Fatal(err)
	}
	var plain int64
	tr := trailtest.New()
	tr.Account = account
	tr.Mem.Keys = []trailcheck.PublicKey{tr.PublicKey()}
	byHour := map[int][]string{}
	err = filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(logs, p)
		key := filepath.ToSlash(rel)
		tr.Mem.Put(trailcheck.Object{Bucket: tr.Bucket, Key: key, Body: body})
		plain += int64(len(gunzipF(body)))
		stamp := key[strings.LastIndex(key, "_CloudTrail_us-east-1_")+len("_CloudTrail_us-east-1_"):][:14]
		at, err := time.Parse("20060102T1504Z", stamp)
		if err != nil {
			return err
		}
		h := int(at.Sub(day) / time.Hour)
		byHour[h] = append(byHour[h], key)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for h := 0; h <= 24; h++ {
		tr.Digest(day.Add(time.Duration(h)*time.Hour), day.Add(time.Duration(h+1)*time.Hour), byHour[h])
	}
	folder := trailcheck.Folder{Dir: filepath.Join(dir, "folder")}
	if err := tr.Mem.WriteFolder(folder, true); err != nil {
		b.Fatal(err)
	}
	o := trailcheck.Options{Bucket: tr.Bucket, Start: day, End: day.Add(24 * time.Hour)}
	reported := false
	b.ResetTimer()
	for b.Loop() {
		res, err := trailcheck.Validate(context.Background(), folder, o)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Intact() {
			b.Fatalf("not intact: %+v", res.Counts)
		}
		if !reported {
			b.ReportMetric(float64(res.Counts.Digests), "digests")
			b.ReportMetric(float64(res.Counts.Logs), "logs")
			reported = true
		}
	}
	b.ReportMetric(float64(st.Bytes)/1e6, "MB-gzip")
	b.ReportMetric(float64(plain)/1e6, "MB-uncompressed")
	b.SetBytes(plain)
	b.ReportMetric(float64(st.Records), "records")
}
