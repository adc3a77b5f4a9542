package blobstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/dxf-go/dxf/pkg/blobstore"
	"github.com/google/go-containerregistry/pkg/registry"
)

// exampleRegistry starts an in-memory registry for the examples and returns
// its host and a function that stops it. Real code would use a host such as
// "registry.example.com" or "localhost:5000".
func exampleRegistry() (string, func()) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return strings.TrimPrefix(srv.URL, "http://"), srv.Close
}

func Example() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()

	repo, err := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))
	if err != nil {
		log.Fatal(err)
	}
	// Push some data as a blob, and name it with an alias.
	res, err := repo.PushBlob(ctx, strings.NewReader("readings for May 15"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := repo.SetAliasBlobs(ctx, "may15-readings", res.Blob()); err != nil {
		log.Fatal(err)
	}

	// Later: find the blobs by alias and pull them back, verified.
	alias, err := repo.GetAlias(ctx, "may15-readings", "")
	if err != nil {
		log.Fatal(err)
	}
	blobs, err := alias.Blobs() // an error, not a panic, for a multi-platform alias
	if err != nil {
		log.Fatal(err)
	}
	if err := repo.PullBlobs(ctx, os.Stdout, blobs); err != nil {
		log.Fatal(err) // includes a size or digest mismatch, naming the blob
	}
	fmt.Println()
	fmt.Println(res.Digest)
	// Output:
	// readings for May 15
	// sha256:05ae676139103bf2d57ffba74bfba5793941e1b4eecfef4118a354d72992e0a1
}

func ExampleRepository_PushFile() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()

	dir, _ := os.MkdirTemp("", "dxf-example")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "logger.dat")
	_ = os.WriteFile(file, []byte("abc"), 0o600)

	// With a digest cache, pushing an unchanged file again reads nothing:
	// one HEAD request finds the blob already there.
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true),
		blobstore.WithDigestCache(filepath.Join(dir, "cache")))
	for range 2 {
		res, err := repo.PushFile(ctx, file)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Digest, res.Size, res.Existed)
	}
	// Output:
	// sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3 false
	// sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3 true
}

func ExampleRepository_SetAlias() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))
	res, _ := repo.PushBlob(ctx, strings.NewReader("abc"))

	// The manifest is byte for byte what the Python dxf tool writes.
	manifest, err := repo.SetAlias(ctx, "abc", res.Digest)
	if err != nil {
		log.Fatal(err)
	}
	// Like every alias write, SetAlias returns the manifest stored.
	fmt.Println(manifest.Digest, manifest.Size(), manifest.MediaType)
	// Output:
	// sha256:fc164619e222260028d6741aa4a446ecd7042db644322a88b64f6b6d222b5dbf 411 application/vnd.docker.distribution.manifest.v2+json
}

func ExampleRepository_PullBlob() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))

	missing := blobstore.HashBytes([]byte("never pushed"))
	_, err := repo.PullBlob(ctx, missing)
	fmt.Println(errors.Is(err, blobstore.ErrNotFound), errors.Is(err, blobstore.ErrBlobNotFound))
	// Output:
	// true true
}

func ExampleRepository_ListAliases() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))
	res, _ := repo.PushBlob(ctx, strings.NewReader("abc"))
	for _, alias := range []string{"may14", "may15"} {
		_, _ = repo.SetAliasBlobs(ctx, alias, res.Blob())
	}
	for alias, err := range repo.Aliases(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(alias)
	}
	// Output:
	// may14
	// may15
}

func ExampleParseDigest() {
	_, err := blobstore.ParseDigest("sha512:abcd")
	fmt.Println(errors.Is(err, blobstore.ErrUnexpectedDigestMethod))
	d, _ := blobstore.ParseDigest("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	fmt.Println(d.Hex[:12])
	// Output:
	// true
	// ba7816bf8f01
}

func ExampleMakeManifest() {
	d, _ := blobstore.ParseDigest("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	raw, _ := blobstore.MakeManifest(blobstore.Blob{Digest: d, Size: 3})
	m, _ := blobstore.ParseManifest(raw, "")
	fmt.Println(m.MediaType, len(m.Layers), m.Config.Size)
	// Output:
	// application/vnd.docker.distribution.manifest.v2+json 1 3
}

func ExampleRepository_PushBlob_unknownLength() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))

	// A reader of unknown length (a pipe, standard input, a network stream)
	// is hashed while it streams to the registry in one request. Such a
	// push cannot resume: give a reader that is also an io.ReaderAt (an
	// *os.File) and its size (WithSize, or PushFile) for a push sent in
	// chunks that carries on from where a failure left it.
	pr, pw := io.Pipe()
	go func() {
		for i := range 3 {
			fmt.Fprintf(pw, "reading %d\n", i)
		}
		pw.Close()
	}()
	res, err := repo.PushBlob(ctx, pr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Digest, res.Size)
	// Output:
	// sha256:1449d6fdd7a787072247f5c902d2b6ba9d50e717187e144e05eba1d68614873b 30
}

func ExampleRepository_PushFiles() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))

	dir, _ := os.MkdirTemp("", "dxf-example")
	defer os.RemoveAll(dir)
	var files []string
	for i, data := range []string{"day one", "day two", "day three"} {
		f := filepath.Join(dir, fmt.Sprintf("day%d.dat", i+1))
		_ = os.WriteFile(f, []byte(data), 0o600)
		files = append(files, f)
	}
	// Up to two files at a time; results in the files' order.
	results, err := repo.PushFiles(ctx, files, blobstore.WithJobs(2))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println(r.Digest.Hex[:12], r.Size)
	}
	// Output:
	// b5619afdcb4e 7
	// e1055817bb5b 7
	// 8c9991eb9b84 9
}

func ExampleRepository_SetAliasBlobs() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))

	// Two blobs under one alias, in order: pulling the alias yields them
	// one after the other.
	first, _ := repo.PushBlob(ctx, strings.NewReader("first half, "))
	second, _ := repo.PushBlob(ctx, strings.NewReader("second half\n"))
	m, err := repo.SetAliasBlobs(ctx, "both-halves", first.Blob(), second.Blob())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(m.Layers), m.MediaType)
	if err := repo.PullAlias(ctx, os.Stdout, "both-halves"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 2 application/vnd.docker.distribution.manifest.v2+json
	// first half, second half
}

func ExampleRepository_PullAlias_file() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))
	var blobs []blobstore.Blob
	for _, part := range []string{"alpha ", "beta ", "gamma"} {
		res, _ := repo.PushBlob(ctx, strings.NewReader(part))
		blobs = append(blobs, res.Blob())
	}
	_, _ = repo.SetAliasBlobs(ctx, "greek", blobs...)

	dir, _ := os.MkdirTemp("", "dxf-example")
	defer os.RemoveAll(dir)
	f, _ := os.Create(filepath.Join(dir, "greek.dat"))
	defer f.Close()
	// Into a regular file the blobs are fetched in parallel (WithJobs at a
	// time), each verified and written at its offset; the file ends as a
	// sequential write would have left it.
	if err := repo.PullAlias(ctx, f, "greek", blobstore.WithJobs(3)); err != nil {
		log.Fatal(err) // a size or digest mismatch names the blob
	}
	data, _ := os.ReadFile(f.Name())
	fmt.Println(string(data))
	// Output:
	// alpha beta gamma
}

func ExampleWithProgress() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))
	res, _ := repo.PushBlob(ctx, strings.NewReader(strings.Repeat("x", 1000)))

	// The same reports for pushes and pulls: first with Done == 0, as bytes
	// move, and last with Finished set (also for a blob the registry
	// already had, then with Existed set).
	progress := blobstore.WithProgress(func(p blobstore.Progress) {
		if p.Finished {
			fmt.Printf("blob %d: %d/%d bytes, existed %v\n", p.Index, p.Done, p.Blob.Size, p.Existed)
		}
	})
	var out strings.Builder
	if err := repo.PullBlobs(ctx, &out, []blobstore.Blob{res.Blob(), res.Blob()}, progress); err != nil {
		log.Fatal(err)
	}
	_, _ = repo.PushBlob(ctx, strings.NewReader(strings.Repeat("x", 1000)), blobstore.WithDigest(res.Digest), progress)
	// Output:
	// blob 0: 1000/1000 bytes, existed false
	// blob 1: 1000/1000 bytes, existed false
	// blob 0: 1000/1000 bytes, existed true
}

func ExampleRepository_DeleteAlias() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()
	repo, _ := blobstore.New(host, "fred/datalogger", blobstore.WithInsecure(true))
	res, _ := repo.PushBlob(ctx, strings.NewReader("old readings"))
	_, _ = repo.SetAliasBlobs(ctx, "old", res.Blob())

	// Deleting an alias removes that alias only (other aliases naming the
	// same manifest stay); the blobs stay until deleted themselves.
	m, err := repo.DeleteAlias(ctx, "old")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Layers[0].Digest == res.Digest)
	_, err = repo.GetManifest(ctx, "old")
	fmt.Println(errors.Is(err, blobstore.ErrAliasNotFound))
	if err := repo.DeleteBlob(ctx, res.Digest); err != nil {
		log.Fatal(err)
	}
	ok, _ := repo.HasBlob(ctx, res.Digest)
	fmt.Println(ok)
	// Output:
	// true
	// true
	// false
}

// Copy an alias, with everything it reaches, to another repository: here
// on the same registry, so the blobs are mounted, not sent.
func ExampleCopy() {
	host, stop := exampleRegistry()
	defer stop()
	ctx := context.Background()

	reg, err := blobstore.NewRegistry(host, blobstore.WithInsecure(true))
	if err != nil {
		log.Fatal(err)
	}
	staging, _ := reg.Repository("fred/staging")
	prod, _ := reg.Repository("fred/prod")
	res, err := staging.PushBlob(ctx, strings.NewReader("release data"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := staging.SetAliasBlobs(ctx, "v1", res.Blob())
	if err != nil {
		log.Fatal(err)
	}

	// A target in another registry or an OCI layout (blobstore.Open
	// "oci:DIR") works the same way: the blobs are then streamed and
	// verified. Running it again sends only what is missing.
	cr, err := blobstore.Copy(ctx, staging, prod, "v1", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cr.Manifest.Digest == m.Digest, cr.Blobs, cr.Mounted+cr.Copied+cr.Existed)
	// Output:
	// true 1 1
}

// Open with an oci: target keeps the repository in an OCI image layout on
// disk: no registry, the same calls.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	repo, err := blobstore.Open(ctx, "oci:"+filepath.Join(dir, "fred"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := repo.PushBlob(ctx, strings.NewReader("kept on disk"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := repo.SetAliasBlobs(ctx, "week", res.Blob()); err != nil {
		log.Fatal(err)
	}
	if err := repo.PullAlias(ctx, os.Stdout, "week"); err != nil {
		log.Fatal(err)
	}
	fmt.Println()
	aliases, err := repo.ListAliases(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aliases)
	// Output:
	// kept on disk
	// [week]
}

// A directory pushed as a data set (an OCI 1.1 artifact, one named blob
// per file) and pulled back by name into another directory.
func ExampleRepository_PushDir() {
	top, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(top)
	ctx := context.Background()
	src := filepath.Join(top, "src")
	for name, data := range map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	repo, err := blobstore.OpenLayout(filepath.Join(top, "store"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := repo.PushDir(ctx, src, "v1"); err != nil {
		log.Fatal(err)
	}
	_, files, err := repo.ListFiles(ctx, "v1")
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(f.Path, f.Size)
	}
	res, err := repo.PullDir(ctx, "v1", filepath.Join(top, "copy"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(top, "copy", "sub", "b.txt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d files fetched; sub/b.txt: %s", res.Transferred, b)
	// Output:
	// a.txt 6
	// sub/b.txt 5
	// 2 files fetched; sub/b.txt: beta
}
