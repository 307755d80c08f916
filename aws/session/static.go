package session

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// StaticCredentials returns a provider of fixed credentials, for
// Options.Credentials: the drill account's responder key, known only
// in-process. It keeps the SDK's credential types out of cmd/.
func StaticCredentials(keyID, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(keyID, secret, token)
}
