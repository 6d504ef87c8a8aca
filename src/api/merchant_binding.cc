#include "api/merchant_binding.h"

#include <utility>

#include "common/ids.h"

namespace tpw::api {
namespace {

std::string BoundTo(const access::ApiKey& key) {
  return "API key " + access::KeyIdText(key.id) + " is bound to " +
         std::to_string(key.merchant_accounts.size()) + " merchant account(s)";
}

HttpResponse NotAllowed(std::string message, std::string param) {
  return ErrorResponse({http::status::forbidden, error_type::kPermission, "merchant_not_allowed",
                        std::move(message), std::move(param)});
}

// The body's name for a transfer's debit account: the single endpoint's field, or the batch's.
std::string DebitParam(size_t index, size_t count) {
  if (count == 1) return "debit_account_id";
  return "transfers[" + std::to_string(index) + "].debit_account_id";
}

}  // namespace

HttpResponse NotYourMerchant(const access::ApiKey& key, AccountId merchant, std::string param) {
  return NotAllowed(BoundTo(key) + " and merchant account " + FormatId(merchant) +
                        " is not one of them; use the key made for that merchant (`tpwallet "
                        "apikey list` shows each key's merchant_account_ids)",
                    std::move(param));
}

HttpResponse BoundKeyCannotCreateAccounts(const access::ApiKey& key) {
  return NotAllowed(BoundTo(key) +
                        " and cannot create ledger accounts: accounts are created by the "
                        "platform (an admin key), which then binds a merchant key to them",
                    "");
}

std::optional<HttpResponse> RefuseTransferDrafts(const access::ApiKey& key,
                                                 const std::vector<cli::TransferDraft>& drafts) {
  for (size_t i = 0; i < drafts.size(); ++i) {
    const AccountId debit = drafts[i].transfer.debit_account_id;
    if (debit.is_zero()) {
      return NotAllowed(BoundTo(key) +
                            ", so every transfer it makes must name its debit_account_id, one "
                            "of its merchant accounts — also when posting or voiding a pending "
                            "transfer (the ledger checks it is the pending transfer's)",
                        DebitParam(i, drafts.size()));
    }
    if (!key.MayActFor(debit)) return NotYourMerchant(key, debit, DebitParam(i, drafts.size()));
  }
  return std::nullopt;
}

bool MaySeeTransfer(const access::ApiKey& key, const ledger::Transfer& transfer) {
  return key.MayActFor(transfer.debit_account_id) || key.MayActFor(transfer.credit_account_id);
}

}  // namespace tpw::api
