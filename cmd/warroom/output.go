package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state/journal"
)

// writeOutput writes data to the output file path, for every command that
// writes one (report -o, journal sign, journal keygen). It never follows a
// symlink (an existing one is refused, even with force: one planted in a
// shared folder would send the output over a file of the attacker's
// choosing), never writes over an incident journal (one of journals, which
// the command read, by inode, or any file whose first line is an
// incident.opened entry), and replaces another existing file only with
// force. A new file is created 0600 with O_EXCL.
func writeOutput(path string, data []byte, force bool, journals ...string) error {
	name := sanitize.Terminal(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err == nil {
		return finishOutput(f, path, data)
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("output %s: %w", name, err)
	}
	fi, lerr := os.Lstat(path)
	switch {
	case lerr != nil:
		return fmt.Errorf("output %s: %w", name, lerr)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("output %s is a symlink: warroom never writes an output through one (even with --force); give a real path", name)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("output %s exists and is not a regular file (%s)", name, fi.Mode().Type())
	}
	// Open what is there, without following or truncating, and judge the
	// file actually opened: a name swapped meanwhile changes nothing.
	f, err = os.OpenFile(path, os.O_RDWR|oNoFollow, 0)
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	if err := refuseJournal(f, name, journals); err != nil {
		f.Close()
		return err
	}
	if !force {
		f.Close()
		return fmt.Errorf("output %s exists: give --force to replace it, or another path", name)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return fmt.Errorf("output %s: %w", name, err)
	}
	_ = f.Chmod(0o600) // a report is as private as the journal; best effort on a file of another owner
	return finishOutput(f, path, data)
}

// refuseJournal fails when f is one of journals or looks like a journal.
func refuseJournal(f *os.File, name string, journals []string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	for _, j := range journals {
		if ji, err := os.Stat(j); err == nil && os.SameFile(fi, ji) {
			return fmt.Errorf("output %s is the journal %s itself: warroom never writes an output over a journal (not even with --force); choose another path", name, sanitize.Terminal(j))
		}
	}
	if journal.LooksLikeJournal(f) {
		return fmt.Errorf("output %s is an incident journal (its first line is incident.opened): warroom never writes an output over a journal (not even with --force); choose another path", name)
	}
	return nil
}

func finishOutput(f *os.File, path string, data []byte) error {
	_, err := f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", sanitize.Terminal(path), err)
	}
	return nil
}

// appendOutput appends data to the file at path, creating it 0600, for
// outputs that accumulate (a signed heads file). Like writeOutput it never
// follows a symlink and never writes into a journal (one of journals, or
// any file that begins like one).
func appendOutput(path string, data []byte, journals ...string) error {
	name := sanitize.Terminal(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|oNoFollow, 0o600)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("output %s is a symlink: warroom never writes an output through one; give a real path", name)
		}
		return fmt.Errorf("output %s: %w", name, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("output %s is not a regular file", name)
	}
	if err := refuseJournal(f, name, journals); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	return nil
}
