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
	for _, d := range alias.Image().Digests() {
		blob, err := repo.PullBlob(ctx, d)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := io.Copy(os.Stdout, blob); err != nil {
			log.Fatal(err) // includes a digest mismatch
		}
		blob.Close()
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
