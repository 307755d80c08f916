package inventory

import (
	"strings"
	"testing"
	"time"
)

const reportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
	"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
	"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
	"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

func TestParseCredentialReport(t *testing.T) {
	root := "<root_account>,arn:aws:iam::111122223333:root,2019-01-01T00:00:00+00:00,not_supported,2026-11-01T10:00:00+00:00,not_supported,not_supported,false," +
		"true,2020-01-01T00:00:00+00:00,2026-11-22T23:15:00+00:00,eu-west-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	alice := "alice,arn:aws:iam::111122223333:user/alice,2024-05-01T08:00:00+00:00,true,no_information,2024-05-01T08:00:00+00:00,N/A,true," +
		"true,2024-05-01T08:00:00+00:00,N/A,N/A,N/A,true,2026-11-23T03:00:00+00:00,2026-11-23T03:30:00+00:00,us-east-1,iam,true,2024-05-01T08:00:00+00:00,false,N/A"
	tests := []struct {
		name     string
		report   string
		wantErr  bool
		rows     int
		badLines []int
		check    func(t *testing.T, rows []CredentialRow)
	}{
		{name: "root and a user", report: reportHeader + "\n" + root + "\n" + alice + "\n", rows: 2, check: func(t *testing.T, rows []CredentialRow) {
			r := rootOf(rows[0])
			if rows[0].User != RootUser || r.AccessKeys != 1 || r.MFA ||
				!r.KeyLastUsed.Equal(time.Date(2026, 11, 22, 23, 15, 0, 0, time.UTC)) ||
				!r.PasswordLastUsed.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("root %+v", r)
			}
			a := rows[1]
			if !a.PasswordEnabled || !a.PasswordLastUsed.IsZero() || !a.MFAActive || !a.Keys[1].Active ||
				a.Keys[1].LastRegion != "us-east-1" || a.Keys[1].LastService != "iam" || a.Keys[0].LastRegion != "" || !a.Certs[0] || a.Line != 3 {
				t.Errorf("alice %+v", a)
			}
		}},
		{name: "reordered and extra columns", report: "arn,extra,user,mfa_active\narn:aws:iam::1:root,x,<root_account>,true\n", rows: 1,
			check: func(t *testing.T, rows []CredentialRow) {
				if rows[0].User != RootUser || !rows[0].MFAActive {
					t.Errorf("%+v", rows[0])
				}
			}},
		{name: "short row is reported, the rest read", report: reportHeader + "\nbob,arn:aws:iam::1:user/bob,2024\n" + root + "\n", rows: 1, badLines: []int{2}},
		{name: "bad time is reported", report: reportHeader + "\n" + strings.Replace(alice, "2024-05-01T08:00:00+00:00", "yesterday", 1) + "\n" + root + "\n",
			rows: 1, badLines: []int{2}},
		{name: "bad boolean is reported", report: reportHeader + "\n" + strings.Replace(root, ",false,true,", ",maybe,true,", 1) + "\n" + alice + "\n",
			rows: 1, badLines: []int{2}},
		{name: "bare quote is reported", report: reportHeader + "\nev\"il,arn\n" + root + "\n", rows: 1, badLines: []int{2}},
		{name: "empty user", report: reportHeader + "\n" + strings.Replace(alice, "alice,", ",", 1) + "\n", rows: 0, badLines: []int{2}},
		{name: "no header", report: "", wantErr: true},
		{name: "header without user column", report: "name,arn\nx,y\n", wantErr: true},
		{name: "header only", report: reportHeader + "\n", rows: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, bad, err := ParseCredentialReport([]byte(tt.report))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(rows) != tt.rows {
				t.Fatalf("%d rows, want %d (bad: %v)", len(rows), tt.rows, bad)
			}
			if len(bad) != len(tt.badLines) {
				t.Fatalf("bad rows %v, want lines %v", bad, tt.badLines)
			}
			for i, b := range bad {
				if b.Line != tt.badLines[i] {
					t.Errorf("bad row at line %d, want %d", b.Line, tt.badLines[i])
				}
				if !strings.Contains(b.Error(), "credential report line") {
					t.Errorf("error %q does not name the line", b.Error())
				}
			}
			if tt.check != nil {
				tt.check(t, rows)
			}
		})
	}
}

func FuzzParseCredentialReport(f *testing.F) {
	f.Add([]byte(reportHeader + "\n<root_account>,arn:aws:iam::1:root,N/A,not_supported,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"))
	f.Add([]byte("user,arn\n\"a\nb\",x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, bad, err := ParseCredentialReport(data)
		if err != nil && (rows != nil || bad != nil) {
			t.Fatal("rows returned with a header error")
		}
		for _, r := range rows {
			if r.User == "" || r.Line < 2 {
				t.Fatalf("row %+v", r)
			}
		}
	})
}
