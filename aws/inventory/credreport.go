package inventory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// RootUser is the credential report's name for the account's root user.
const RootUser = "<root_account>"

// CredentialRow is one row of the IAM credential report.
type CredentialRow struct {
	Line             int // 1-based line in the report
	User             string
	ARN              string
	Created          time.Time
	PasswordEnabled  bool
	PasswordLastUsed time.Time
	MFAActive        bool
	Keys             [2]ReportKey
	Certs            [2]bool // cert_N_active
}

// ReportKey is one of the two access-key column groups of a report row.
type ReportKey struct {
	Active      bool
	LastRotated time.Time
	LastUsed    time.Time
	LastRegion  string
	LastService string
}

// RowError is a report row that could not be read.
type RowError struct {
	Line int
	Err  string
}

func (e RowError) Error() string { return fmt.Sprintf("credential report line %d: %s", e.Line, e.Err) }

// ParseCredentialReport reads the CSV credential report. Columns are found
// by their header names, so reports with added or reordered columns parse;
// a bad row is returned as a RowError and the rest are read. It fails only
// when the header itself is unusable.
func ParseCredentialReport(data []byte) ([]CredentialRow, []RowError, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("credential report: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"user", "arn"} {
		if _, ok := col[need]; !ok {
			return nil, nil, fmt.Errorf("credential report: header has no %q column", need)
		}
	}
	var (
		rows []CredentialRow
		bad  []RowError
	)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{Line: pe.StartLine, Err: pe.Err.Error()})
				continue
			}
			bad = append(bad, RowError{Err: err.Error()})
			break
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			bad = append(bad, RowError{Line: line, Err: fmt.Sprintf("%d fields, header has %d", len(rec), len(header))})
			continue
		}
		row, err := parseRow(rec, col)
		if err != nil {
			bad = append(bad, RowError{Line: line, Err: err.Error()})
			continue
		}
		row.Line = line
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func parseRow(rec []string, col map[string]int) (CredentialRow, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var firstErr error
	tm := func(name string) time.Time {
		t, err := reportTime(get(name))
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", name, err)
		}
		return t
	}
	bl := func(name string) bool {
		b, err := reportBool(get(name))
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", name, err)
		}
		return b
	}
	row := CredentialRow{User: get("user"), ARN: get("arn")}
	if row.User == "" {
		return row, errors.New("empty user")
	}
	row.Created = tm("user_creation_time")
	row.PasswordEnabled = bl("password_enabled")
	row.PasswordLastUsed = tm("password_last_used")
	row.MFAActive = bl("mfa_active")
	for i := range row.Keys {
		p := fmt.Sprintf("access_key_%d_", i+1)
		row.Keys[i] = ReportKey{
			Active:      bl(p + "active"),
			LastRotated: tm(p + "last_rotated"),
			LastUsed:    tm(p + "last_used_date"),
			LastRegion:  naEmpty(get(p + "last_used_region")),
			LastService: naEmpty(get(p + "last_used_service")),
		}
		row.Certs[i] = bl(fmt.Sprintf("cert_%d_active", i+1))
	}
	return row, firstErr
}

// naEmpty maps the report's placeholders to "".
func naEmpty(s string) string {
	switch strings.ToLower(s) {
	case "n/a", "not_supported", "no_information", "":
		return ""
	}
	return s
}

// reportTime reads a report timestamp; placeholders are the zero time.
func reportTime(s string) (time.Time, error) {
	if naEmpty(s) == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// reportBool reads "true"/"false"; placeholders are false.
func reportBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false", "", "n/a", "not_supported":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}
