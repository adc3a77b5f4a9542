package blobstore

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
)

// codec tells the registry's repositories (a [remote.Repo], which is the
// registry's [store.Store]) the grammar of aliases, digests and manifests
// that this package defines, and how to name another repository of r (a
// mount's source).
func (r *Registry) codec() remote.Codec {
	return remote.Codec{
		ParseDigest:   ParseDigest,
		ValidateAlias: ValidateAlias,
		ParseManifest: func(raw []byte, contentType string) (string, v1.Hash, error) {
			m, err := ParseManifest(raw, contentType)
			if err != nil {
				return "", v1.Hash{}, err
			}
			return string(m.MediaType), m.Digest, nil
		},
		Accept: acceptManifests,
		Limit:  limitManifest.Limit,
		TooBig: limitManifest,
		Refused: func(err error, mediaType string) error {
			return schema2Hint(err, MediaType(mediaType))
		},
		Repository: func(name string) (*remote.Repo, error) {
			src, err := r.Repository(name)
			if err != nil {
				return nil, err
			}
			return src.st.(*remote.Repo), nil
		},
	}
}
