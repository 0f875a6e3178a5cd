// Package auth connects a Dropbox account and keeps it authorized: the OAuth2
// authorization-code flow with PKCE (S256, no app secret, token_access_type=offline)
// through the user's browser and a loopback listener, or with a pasted code; the account
// check after the exchange; a refreshing token source; token storage in the OS keychain;
// and revocation. It is GUI-free: the wizard, the command line and the engine use it.
//
// A Config names the app (key) and where Dropbox is (RealDropbox, or DropboxAt the
// emulator's URL). ResolveAppKey picks the key from the environment, the settings or the
// build, and says ErrNoAppKey plainly when there is none.
//
// The wizard connects like this:
//
//	cfg := auth.Config{AppKey: key, Dropbox: d}
//	f, err := cfg.Listen(auth.Options{Language: lang, ExpectedAccountID: conn.AccountID})
//	if errors.Is(err, auth.ErrNoFreePort) {
//		// offer cfg.NoRedirect(opts): show its URL, take the pasted code, ExchangeCode
//	}
//	app.OpenURL(f.URL()) // and show the URL to copy, with a Cancel button that cancels ctx
//	res, err := f.Wait(ctx) // on a goroutine; the listener is closed when it returns
//	err = auth.Keychain{}.Save(conn.ID, res.Token)
//	conn.AccountID, conn.AccountName, conn.AccountEmail = res.Account.ID, ...
//
// Config.Connect does Listen, Options.OpenBrowser and Wait in one call.
//
// Tokens never leave the keychain except in memory: not in the config, the state store,
// logs or error messages. Errors from this package are redacted (see Redact), and a
// Result prints without its token.
//
// The engine gets a connection's token source with cfg.TokenSource(conn.ID,
// auth.Keychain{}); a refresh Dropbox refuses reports dropbox.ErrReconnect, the connection then
// shows "needs reconnect", and reconnecting with ExpectedAccountID set resumes it.
// Removing a connection calls cfg.Revoke.
package auth
