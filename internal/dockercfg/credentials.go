package dockercfg

import (
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
)

// Key is the key docker login stores a registry's credentials under: the
// host, or Docker Hub's historical URL.
func Key(host string) string {
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return "https://index.docker.io/v1/"
	}
	return host
}

// Place names where the credentials of key live: the credential helper
// the configuration names for key or for all, else the file itself.
func Place(cf *configfile.ConfigFile, key string) string {
	if h := cf.CredentialHelpers[key]; h != "" {
		return "credential helper docker-credential-" + h
	}
	if cf.CredentialsStore != "" {
		return "credential helper docker-credential-" + cf.CredentialsStore
	}
	return cf.Filename
}

// Store keeps a user name and password for key as docker login does: in
// the credential helper the configuration names, else in the file itself
// (as docker's file store does, without its several-line warning). It
// returns where they went, saying so when that is the unencrypted file.
func Store(cf *configfile.ConfigFile, key, user, pass string) (string, error) {
	ac := types.AuthConfig{Username: user, Password: pass, ServerAddress: key}
	place := Place(cf, key)
	if cf.CredentialsStore == "" && cf.CredentialHelpers[key] == "" {
		cf.AuthConfigs[key] = ac
		place += " (unencrypted: a credential helper, credsStore, would keep it safer)"
		return place, cf.Save()
	}
	return place, cf.GetCredentialsStore(key).Store(ac)
}

// Erase removes the credentials of key, as docker logout does; false
// (and no error) when there were none.
func Erase(cf *configfile.ConfigFile, key string) (bool, error) {
	store := cf.GetCredentialsStore(key)
	if ac, err := store.Get(key); err == nil && ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" && ac.Auth == "" {
		return false, nil
	}
	return true, store.Erase(key)
}

// Has reports whether the configuration holds credentials for key.
func Has(cf *configfile.ConfigFile, key string) bool {
	ac, err := cf.GetAuthConfig(key)
	return err == nil && (ac.Username != "" || ac.IdentityToken != "" || ac.RegistryToken != "" || ac.Auth != "")
}
