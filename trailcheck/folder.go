package trailcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A folder holds S3 objects as files: DIR/BUCKET/KEY. Beside them, in
// DIR/.warroom/ (no bucket name begins with a dot), each object's metadata
// in a sidecar (DIR/.warroom/meta/BUCKET/KEY.json, a JSON object of the
// metadata) and the public keys (DIR/.warroom/public-keys.json). A folder
// made by `aws s3 sync s3://BUCKET DIR` holds one bucket's keys directly
// under DIR and no metadata: open it with Bucket set.

// Folder reads a local folder as a Source.
type Folder struct {
	Dir string
	// Bucket, when set, is the one bucket the folder holds, its keys
	// directly under Dir (a folder made by aws s3 sync): every bucket
	// asked for is read from Dir, and nothing in Dir/.warroom is trusted
	// (a key of the bucket could have put it there).
	Bucket string
}

const (
	sideDir  = ".warroom"
	keysFile = "public-keys.json"
)

func (f Folder) objectPath(bucket, key string) (string, error) {
	if !isLocalKey(key) {
		return "", fmt.Errorf("key %q is not a safe relative path", key)
	}
	if f.Bucket != "" {
		return filepath.Join(f.Dir, filepath.FromSlash(key)), nil
	}
	if !isLocalKey(bucket) || strings.Contains(bucket, "/") || strings.HasPrefix(bucket, ".") {
		return "", fmt.Errorf("bucket %q is not a bucket name", bucket)
	}
	return filepath.Join(f.Dir, bucket, filepath.FromSlash(key)), nil
}

func (f Folder) metaPath(bucket, key string) string {
	return filepath.Join(f.Dir, sideDir, "meta", bucket, filepath.FromSlash(key)+".json")
}

// List returns the keys under prefix in bucket, sorted.
func (f Folder) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	root := f.Dir
	if f.Bucket == "" {
		if !isLocalKey(bucket) || strings.Contains(bucket, "/") || strings.HasPrefix(bucket, ".") {
			return nil, fmt.Errorf("bucket %q is not a bucket name", bucket)
		}
		root = filepath.Join(f.Dir, bucket)
	}
	// Walk only the folder the prefix names (its part up to the last slash).
	start := root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		if !isLocalKey(prefix[:i]) {
			return nil, fmt.Errorf("prefix %q is not a safe relative path", prefix)
		}
		start = filepath.Join(root, filepath.FromSlash(prefix[:i]))
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return filepath.SkipAll
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") && rel == sideDir {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasPrefix(rel, prefix) {
			keys = append(keys, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	return keys, nil
}

// Get reads one object and its sidecar. Meta is nil when the object has no
// sidecar, or the folder is an aws s3 sync copy.
func (f Folder) Get(ctx context.Context, bucket, key string) (Object, error) {
	p, err := f.objectPath(bucket, key)
	if err != nil {
		return Object{}, err
	}
	body, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Object{}, ErrNotFound
	}
	if err != nil {
		return Object{}, err
	}
	obj := Object{Bucket: bucket, Key: key, Body: body}
	if f.Bucket != "" {
		return obj, nil
	}
	raw, err := readRegular(f.metaPath(bucket, key))
	if errors.Is(err, fs.ErrNotExist) {
		return obj, nil
	}
	if err != nil {
		return Object{}, err
	}
	var meta map[string]string
	if err := json.Unmarshal(raw, &meta); err != nil {
		return Object{}, fmt.Errorf("metadata of %s/%s: %s: %w", bucket, key, f.metaPath(bucket, key), err)
	}
	if meta == nil {
		meta = map[string]string{}
	}
	obj.Meta = meta
	return obj, nil
}

// readRegular reads a regular file, never through a symlink at its end.
func readRegular(p string) ([]byte, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", p, fi.Mode().Type())
	}
	return os.ReadFile(p)
}

// keyFile is a public key as the folder keeps it.
type keyFile struct {
	Fingerprint string    `json:"fingerprint"`
	Value       []byte    `json:"value"` // DER, base64 in JSON
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// PublicKeys returns the folder's public keys valid at some time in
// [start, end]; ErrNotFound when it has none (or is an aws s3 sync copy).
func (f Folder) PublicKeys(ctx context.Context, start, end time.Time) ([]PublicKey, error) {
	if f.Bucket != "" {
		return nil, ErrNotFound
	}
	return ReadPublicKeys(filepath.Join(f.Dir, sideDir, keysFile), start, end)
}

// ReadPublicKeys reads a public-keys file (as a folder keeps it), keeping
// the keys valid at some time in [start, end]; ErrNotFound when there is no file.
func ReadPublicKeys(path string, start, end time.Time) ([]PublicKey, error) {
	raw, err := readRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var kf []keyFile
	if err := json.Unmarshal(raw, &kf); err != nil {
		return nil, fmt.Errorf("public keys %s: %w", path, err)
	}
	var out []PublicKey
	for _, k := range kf {
		if (!k.End.IsZero() && k.End.Before(start)) || (!k.Start.IsZero() && k.Start.After(end)) {
			continue
		}
		out = append(out, PublicKey(k))
	}
	return out, nil
}

// Put writes one object (and its metadata, when it has any) into the
// folder, creating folders as needed. It refuses unsafe keys and never
// writes through a symlink.
func (f Folder) Put(obj Object) error {
	if f.Bucket != "" {
		return errors.New("a folder opened as one bucket's aws s3 sync copy is read-only")
	}
	p, err := f.objectPath(obj.Bucket, obj.Key)
	if err != nil {
		return err
	}
	if err := writeFile(p, obj.Body); err != nil {
		return err
	}
	if obj.Meta == nil {
		return nil
	}
	raw, err := json.Marshal(obj.Meta)
	if err != nil {
		return err
	}
	return writeFile(f.metaPath(obj.Bucket, obj.Key), raw)
}

// PutPublicKeys writes the folder's public-keys file.
func (f Folder) PutPublicKeys(keys []PublicKey) error {
	kf := make([]keyFile, len(keys))
	for i, k := range keys {
		kf[i] = keyFile(k)
	}
	raw, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(f.Dir, sideDir, keysFile), append(raw, '\n'))
}

func writeFile(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file", p)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Download copies what validating opts's range in src reads — every digest
// and its metadata, every log file a digest lists, every log file present
// that none lists — and the public keys into the folder dst, so that it
// can be validated later with no network. It returns the validation of
// the source it made on the way.
func Download(ctx context.Context, src Source, dst Folder, opts Options) (*Result, error) {
	// DIR/.warroom marks the layout (DIR/BUCKET/KEY), even with no metadata in it.
	if err := os.MkdirAll(filepath.Join(dst.Dir, sideDir), 0o700); err != nil {
		return nil, err
	}
	tee := &teeSource{Source: src, dst: dst}
	res, err := Validate(ctx, tee, opts)
	if err != nil {
		return nil, err
	}
	for _, c := range res.Chains {
		for _, u := range c.Unvouched {
			if _, err := tee.Get(ctx, u.Bucket, u.Key); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		}
	}
	if len(tee.keys) > 0 {
		if err := dst.PutPublicKeys(tee.keys); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// teeSource writes every object and key it reads into a folder.
type teeSource struct {
	Source
	dst  Folder
	keys []PublicKey
}

func (t *teeSource) Get(ctx context.Context, bucket, key string) (Object, error) {
	obj, err := t.Source.Get(ctx, bucket, key)
	if err != nil {
		return obj, err
	}
	if perr := t.dst.Put(obj); perr != nil {
		return obj, fmt.Errorf("saving s3://%s/%s: %w", bucket, key, perr)
	}
	return obj, nil
}

func (t *teeSource) PublicKeys(ctx context.Context, start, end time.Time) ([]PublicKey, error) {
	keys, err := t.Source.PublicKeys(ctx, start, end)
	if err == nil {
		t.keys = keys
	}
	return keys, err
}

// Locate finds where a trail is in src's bucket when it is not known: the
// key prefix of the first digest found, and the bucket that digest names
// (for a folder made by aws s3 sync, which keeps no bucket name). ok is
// false when bucket holds no digest. The names are the files' own: a
// digest that names another bucket is then found "moved" by Validate.
func Locate(ctx context.Context, src Source, bucket string) (named, prefix string, ok bool, err error) {
	keys, err := src.List(ctx, bucket, "")
	if err != nil {
		return "", "", false, err
	}
	for _, k := range keys {
		dk, isDigest := ParseDigestKey(k)
		if !isDigest {
			continue
		}
		named = bucket
		if obj, err := src.Get(ctx, bucket, k); err == nil {
			if raw, err := gunzip(obj.Body, maxDigest); err == nil {
				if d, err := ParseDigest(raw); err == nil {
					named = d.Bucket
				}
			}
		}
		return named, dk.Prefix, true, nil
	}
	return "", "", false, nil
}
