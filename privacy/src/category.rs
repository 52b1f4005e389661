use serde::{Deserialize, Serialize};

/// What a redacted span was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// PEM private key blocks.
    PrivateKey,
    /// JSON Web Tokens.
    Jwt,
    /// Values of Authorization, Cookie and API-key headers.
    AuthHeader,
    /// Bearer tokens.
    BearerToken,
    /// Passwords inside URLs and connection strings.
    UrlPassword,
    /// AWS access key ids.
    AwsKey,
    /// GitHub tokens.
    GithubToken,
    /// Slack tokens and webhook URLs.
    SlackToken,
    /// Stripe keys.
    StripeKey,
    /// Google API keys.
    GoogleApiKey,
    /// Values of secret-like fields (`password`, `client_secret`, `api_key`, ...).
    Secret,
    /// User ids and names in known auth-trace fields.
    User,
    /// Email addresses.
    Email,
    /// IPv4 addresses.
    Ipv4,
    /// IPv6 addresses.
    Ipv6,
    /// Phone numbers.
    Phone,
}

impl Category {
    /// Whether it names a person or a host rather than a credential:
    /// identities may be put back for the local user, secrets never.
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            Category::User | Category::Email | Category::Ipv4 | Category::Ipv6 | Category::Phone
        )
    }

    /// The placeholder stem: `<EMAIL_1>`.
    pub fn label(self) -> &'static str {
        match self {
            Category::PrivateKey => "PRIVATE_KEY",
            Category::Jwt => "JWT",
            Category::AuthHeader => "AUTH_HEADER",
            Category::BearerToken => "BEARER_TOKEN",
            Category::UrlPassword => "URL_PASSWORD",
            Category::AwsKey => "AWS_KEY",
            Category::GithubToken => "GITHUB_TOKEN",
            Category::SlackToken => "SLACK_TOKEN",
            Category::StripeKey => "STRIPE_KEY",
            Category::GoogleApiKey => "GOOGLE_API_KEY",
            Category::Secret => "SECRET",
            Category::User => "USER",
            Category::Email => "EMAIL",
            Category::Ipv4 => "IP",
            Category::Ipv6 => "IPV6",
            Category::Phone => "PHONE",
        }
    }
}
