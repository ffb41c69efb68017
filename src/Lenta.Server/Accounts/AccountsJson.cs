using System.Text.Json.Serialization;
using Lenta.Server.Accounts.OAuth;

namespace Lenta.Server.Accounts;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AccountEntity))]
[JsonSerializable(typeof(AccountRow))]
[JsonSerializable(typeof(AccountEntity[]))]
[JsonSerializable(typeof(CredentialAccountEntity))]
[JsonSerializable(typeof(List<StoredField>))]
[JsonSerializable(typeof(TokenEntity))]
[JsonSerializable(typeof(ApplicationEntity))]
[JsonSerializable(typeof(CredentialApplicationEntity))]
[JsonSerializable(typeof(AuthorizationServerMetadata))]
internal sealed partial class AccountsJson : JsonSerializerContext;
