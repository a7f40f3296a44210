"""Words on the pages: Chinese first, English on request (``?lang=en``, remembered in a
cookie). Every string a page shows comes from ``TEXT``, so the two stay side by side."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import g, request

LANGUAGES = ("zh", "en")
COOKIE = "lang"

TEXT: dict[str, tuple[str, str]] = {
    "site": ("职业技能等级证书查验", "Vocational Skill Certificate Check"),
    "switch": ("English", "中文"),
    "valid": ("证书有效", "Certificate valid"),
    "revoked": ("证书已撤销", "Certificate revoked"),
    "reissued": ("已换发新证", "Replaced by a new certificate"),
    "replaced_by": ("已换发新证", "Replaced by"),
    "not_valid": ("证书无效", "Certificate not valid"),
    "unknown": ("无法判断", "Cannot tell"),
    "technical": ("技术详情", "Technical details"),
    "failed_check": ("未通过的检查", "Failed check"),
    "reason_code": ("原因代码", "Reason code"),
    "detail": ("说明", "Detail"),
    "key_id": ("签名密钥标识", "Signing key id"),
    "issued_at": ("发证时间", "Issued at"),
    "certificate": ("证书信息", "Certificate"),
    "number": ("证书编号", "Certificate number"),
    "name": ("姓名", "Name"),
    "document_type": ("证件类型", "Document type"),
    "occupation": ("职业", "Occupation"),
    "work_type": ("工种/职业方向", "Work type"),
    "level": ("职业技能等级", "Skill level"),
    "issue_date": ("发证日期", "Issue date"),
    "organization": ("发证机构", "Issuing organization"),
    "registration": ("备案情况", "Registration"),
    "registered": ("备案有效期", "Registered"),
    "org_status": ("机构状态", "Status"),
    "checked_at": ("核验时间", "Checked at"),
    "checked_by_server": ("由查验服务在线核验（含实时撤销状态）", "Checked online by the service (live status)"),
    "revoked_on": ("撤销时间", "Revoked on"),
    "revocation_reason": ("撤销原因", "Reason"),
    "no_document_number": (
        "二维码不含证件号码。请核对持证人身份证件：",
        "The code holds no document number. Check the holder's ID document:",
    ),
    "document_number": ("证件号码", "Document number"),
    "check_match": ("核对", "Check"),
    "match": ("一致：证件号码与证书相符", "Match: the document number is the certificate's"),
    "no_match": ("不一致：证件号码与证书不符", "No match: not the certificate's document number"),
    "offline": ("本机离线验证", "Verify offline on this device"),
    "offline_button": ("在本机验证", "Verify on this device"),
    "offline_note": (
        "在浏览器中用本机缓存的信任包完整验证（签名、机构备案、业务范围、密钥与撤销状态），不经服务器判断。",
        "Runs the whole verification in this browser (signature, registration, scope, keys and revocation) "
        "with a cached trust bundle, without asking the server.",
    ),
    "home_intro": (
        "本站签发的职业技能等级证书均带有数字签名，可扫码、查询或离线核验真伪。",
        "Every vocational skill level certificate issued here is digitally signed: scan it, look it up "
        "or check it offline.",
    ),
    "home_scan": ("扫码验证", "Scan a certificate"),
    "home_scan_how": (
        "用手机相机或微信扫描证书上的二维码，即打开本站的核验页面。也可把二维码内容（以HTTPS://开头的网址）粘贴在下面：",
        "Scan the QR code on the certificate with a phone camera or WeChat: it opens the check page here. "
        "Or paste what the code holds (the address starting with HTTPS://) below:",
    ),
    "home_paste": ("二维码内容", "QR code content"),
    "home_check": ("核验", "Check"),
    "home_paste_empty": ("请粘贴二维码内容。", "Paste what the QR code holds."),
    "home_lookup_how": (
        "没有二维码？凭证书编号、姓名和证件号码查询。",
        "No QR code at hand? Look the certificate up by its number, the name and the document number.",
    ),
    "home_console_how": (
        "评价机构与人社部门的工作人员在此登录，签发、管理和撤销证书。",
        "Staff of evaluation organizations and of the authority sign in here to issue and manage certificates.",
    ),
    "home_auditors": ("审计与人事部门", "Auditors and HR departments"),
    "home_auditors_how": (
        "批量核验无需联网：下载信任包，用签名核验工具逐张验证；接口说明见 OpenAPI 文档。",
        "Bulk checks need no network: download the trust bundle and verify each signature offline; "
        "the API is described in its OpenAPI document.",
    ),
    "home_trust_bundle": ("信任包", "Trust bundle"),
    "home_openapi": ("OpenAPI 文档", "OpenAPI document"),
    "lookup": ("证书查询", "Certificate lookup"),
    "lookup_intro": (
        "请输入姓名和证件号码，查询此人在本站取得的全部证书；填写证书编号则只查该证书。",
        "Enter the name and the document number to list every certificate this person holds here; "
        "add a certificate number to find that one only.",
    ),
    "number_optional": ("证书编号（选填）", "Certificate number (optional)"),
    "lookup_count": ("共查到{count}张证书", "{count} certificate(s) found"),
    "lookup_button": ("查询", "Look up"),
    "lookup_none": ("未查到相符的证书。", "No matching certificate."),
    "too_many": ("查询过于频繁，请{seconds}秒后再试。", "Too many requests: try again in {seconds} seconds."),
    "bad_request": ("请求无效", "Invalid request"),
    "level_label": ("等级", "Level"),
    "active": ("正常", "active"),
    "suspended": ("暂停", "suspended"),
    "cancelled": ("撤销", "cancelled"),
    "unregistered": ("未备案", "not registered"),
    "console": ("机构工作台", "Organization console"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "certificates": ("证书", "Certificates"),
    "issue": ("发证", "Issue"),
    "batches": ("批量发证", "Batches"),
    "organizations": ("机构", "Organizations"),
    "search": ("搜索", "Search"),
    "revoke": ("撤销证书", "Revoke"),
    "reason": ("原因", "Reason"),
    "note": ("备注", "Note"),
    "download_png": ("下载图片（PNG）", "Download PNG"),
    "download_pdf": ("下载PDF", "Download PDF"),
    "status": ("状态", "Status"),
    "theory": ("理论知识成绩", "Theory score"),
    "practical": ("技能操作成绩", "Practical score"),
    "review": ("综合评审成绩", "Review score"),
    "performance": ("工作业绩评审成绩", "Performance review score"),
    "process": ("过程考核成绩", "Process assessment score"),
    "passed_on": ("通过日期（不填为发证日期）", "Date passed (blank: the issue date)"),
    "method": ("评价方式", "Assessment method"),
    "results": ("考核结果", "Results"),
    "scores_intro": (
        "按评价方式填写：考试考核填理论知识和技能操作成绩（二级、一级另填综合评审），工作业绩评审、过程考核填相应成绩；"
        "分次通过的科目须在2年内。",
        "As the method needs: theory and practical (and the review for levels 2 and 1) for the examination, "
        "the performance review or process assessment score for those; components passed at different sittings "
        "combine within 2 years.",
    ),
    "competition": ("竞赛成绩（竞赛选拔）", "Competition result (selection by competition)"),
    "competition_tier": ("竞赛类别", "Competition tier"),
    "competition_rank": ("名次", "Rank"),
    "held_level": ("参赛前已持有的等级", "Level held before"),
    "competition_date": ("获奖日期（不填为发证日期）", "Date of the result (blank: the issue date)"),
    "photo": (
        "一寸照片（JPEG或PNG，竖版，至少295×413像素）",
        "1-inch photo (JPEG or PNG, portrait, 295×413 px or more)",
    ),
    "photo_kept": ("换发时不上传则沿用原证书照片", "Re-issuing without a new photo keeps the old one"),
    "roster": ("花名册（CSV/XLSX）", "Roster (CSV/XLSX)"),
    "photos": ("照片压缩包（ZIP，可选）", "Photos ZIP (optional)"),
    "upload": ("上传并发证", "Upload and issue"),
    "valid_rows_only": ("仅发放有效行", "Issue the valid rows only"),
    "dry_run": ("仅校验，不发证", "Validate only"),
    "batch_previews": ("证书样张", "Sample certificates"),
    "batch_previews_hint": (
        "名单前几条有效记录的证书样张，标有“样张 · 未签发”，确认无误后再签发",
        "The first valid rows as their certificates would print, marked as samples: check them before issuing",
    ),
    "issue_checked": ("确认无误，签发这{count}张证书", "Issue these {count} certificates"),
    "again_title": ("修改后重新上传", "Send the roster again, fixed"),
    "again_hint": (
        "只需选择修改后的名单，照片压缩包沿用本批次已上传的（保留24小时）；不选名单则按原名单重新提交",
        "Choose only the fixed roster: this batch's photos ZIP is taken over (kept 24 hours); "
        "with no roster chosen, the same roster is sent again",
    ),
    "fixed_roster": ("修改后的名单（XLSX或CSV）", "Fixed roster (XLSX or CSV)"),
    "again_button": ("重新提交", "Send again"),
    "progress": ("进度", "Progress"),
    "rows_checked": ("已校验行数", "Rows checked"),
    "certificates_drawn": ("已生成证书图片", "Certificates drawn"),
    "valid_rows": ("有效行", "Valid rows"),
    "invalid_rows": ("有问题的行", "Rows with problems"),
    "download_result": ("下载发证结果（XLSX）", "Download the result (XLSX)"),
    "refreshing": ("本页每3秒自动刷新", "This page refreshes every 3 seconds"),
    "batch_validating": ("正在校验名单", "Validating the roster"),
    "batch_issuing": ("正在发证", "Issuing"),
    "batch_rendering": ("正在生成证书图片", "Drawing the certificates"),
    "batch_done": ("已完成", "Done"),
    "batch_checked": ("校验完成（试校验，未发证）", "Checked (dry run: nothing issued)"),
    "batch_rejected": ("名单未通过校验，未发证", "Rejected: nothing was issued"),
    "batch_failed": ("处理失败", "Failed"),
    "batch_expired": ("压缩包已过期删除", "Archive expired"),
    "download_archive": ("下载压缩包", "Download the archive"),
    "download_print_pdf": ("下载整批PDF（打印用）", "Download the batch as one PDF (for printing)"),
    "print_pdf_note": (
        "每张证书一页，按证书编号排序，已撤销的证书不含在内",
        "a page per certificate, in number order; revoked certificates left out",
    ),
    "scope": ("业务范围", "Scope"),
    "save": ("保存", "Save"),
    "saved": ("已保存", "Saved"),
    "scope_edit": ("修改备案范围", "Edit the scope"),
    "issued_ok": ("已发证", "Issued"),
    "reissued_ok": ("已换发：旧证书已撤销", "Re-issued: the old certificate is revoked"),
    "reissue": ("换发", "Re-issue"),
    "reissue_intro": (
        "证书信息有误时请换发：填写正确信息后发放新证书，旧证书同时撤销（原因：已换发新证）。",
        "To correct a certificate, re-issue it: the new one is issued and this one revoked (replaced).",
    ),
    "reissue_of": ("换发证书：", "Re-issuing"),
    "replaces": ("换发自", "Replaces"),
    "revocation": ("撤销信息", "Revocation"),
    "revoked_by": ("撤销人", "Revoked by"),
    "revoked_ok": ("已撤销", "Revoked"),
    "revoked_done": (
        "证书{number}已撤销，扫码将显示“证书已撤销”；此操作不能恢复。",
        "Certificate {number} is revoked: scanning it shows “revoked”. This cannot be undone.",
    ),
    "choose_reason": ("请选择撤销原因", "Choose a reason"),
    "revoke_confirm": ("确认撤销证书", "Confirm the revocation"),
    "revoke_warning": (
        "撤销后，任何人扫码或查询都将看到“证书已撤销”及原因，且不能恢复。请核对：",
        "Once revoked, anyone scanning or looking it up sees “revoked” and the reason; it cannot be undone. Check:",
    ),
    "revoke_confirm_button": ("确认撤销", "Revoke it"),
    "cancel": ("返回", "Back"),
    "preview": ("预览", "Preview"),
    "preview_hint": (
        "这是按所填内容生成的样张（证书编号为示意，二维码不可验证），核对无误后点“发证”。",
        "A sample made from the form (the number is illustrative and the QR code verifies nothing): "
        "check it, then issue.",
    ),
    "photo_previewed": (
        "已使用预览时选择的照片；如需更换请重新选择。",
        "The photo chosen for the preview is kept; choose another to change it.",
    ),
    "statistics": ("统计", "Statistics"),
    "per_month": ("每月发证数", "Certificates issued per month"),
    "per_organization": ("按机构", "Per organization"),
    "per_occupation": ("按职业和等级", "Per occupation and level"),
    "issued_count": ("发证数", "Issued"),
    "no_certificates_yet": ("尚未发证", "Nothing issued yet"),
    "audit_trail": ("审计日志", "Audit trail"),
    "audit_intact": (
        "审计日志链完整，与透明日志中的检查点一致。",
        "The trail is unbroken and agrees with the log's checkpoints.",
    ),
    "audit_broken": ("审计日志链有断点：", "The trail is broken: "),
    "audit_at": ("时间", "When"),
    "audit_actor": ("操作人", "Who"),
    "audit_action": ("操作", "Action"),
    "audit_target": ("对象", "Target"),
    "status_change": ("变更机构状态", "Change the organization's status"),
    "status_change_to": ("变更为", "Change to"),
    "status_since": ("生效时间", "Effective"),
    "beijing_time": ("北京时间", "Beijing time"),
    "status_since_hint": (
        "生效时间留空为立即生效；可填将来的时间，不能早于现在。",
        "Blank: now; a later time may be given, never an earlier one.",
    ),
    "status_needs_reason": ("请选择新状态并填写原因", "Choose the new status and give the reason"),
    "status_bad_time": ("生效时间无法识别", "The effective time cannot be read"),
    "status_now": ("立即", "now"),
    "signing_keys": ("签名密钥", "Signing keys"),
    "key_created": ("生成时间", "Created"),
    "key_ended": ("停用/泄露时间", "Retired or compromised"),
    "key_active": ("使用中", "Active"),
    "key_retired": ("已停用（此前签发的证书仍有效）", "Retired (what it signed stays valid)"),
    "key_compromised": ("已注销（泄露）", "Revoked (compromised)"),
    "key_compromised_at": ("泄露时间（北京时间，不填为现在）", "Compromised from (Beijing time; blank: now)"),
    "key_rotate": ("轮换密钥", "Rotate the key"),
    "key_rotate_button": ("确认轮换", "Rotate"),
    "key_rotate_effect": (
        "将生成并启用新的签名密钥，发布新的信任列表；旧密钥于下一整秒停用，此前用它签发的证书仍然有效。",
        "A new signing key is created and used from now on, in a new trust list; the old key retires at the "
        "next whole second and what it signed stays valid.",
    ),
    "key_rotate_done": ("已启用新密钥 {kid}", "New key {kid} in use"),
    "key_compromise": ("标记泄露", "Mark compromised"),
    "key_compromise_button": ("确认注销该密钥", "Revoke this key"),
    "key_compromise_effect": (
        "该密钥自泄露时间起签发的证书将被判定无效，不能撤回；若为使用中的密钥，将立即生成新密钥以便继续发证。",
        "Certificates this key signed from the compromise time on will be judged not valid, and this cannot be "
        "undone; if it is the key in use, a new one replaces it at once so that issuing goes on.",
    ),
    "key_compromise_done": ("已注销密钥 {kid}", "Key {kid} revoked"),
    "status_confirm_button": ("确认变更", "Change it"),
    "status_changed": ("机构状态已变更为：{status}", "The organization is now: {status}"),
    "status_effect_suspended": (
        "暂停期间该机构不能发证；生效时间之后签发的证书验证为无效，之前签发的证书不受影响。",
        "While suspended it cannot issue; certificates dated after this time do not verify, earlier ones stay valid.",
    ),
    "status_effect_active": ("恢复后该机构可以重新发证。", "Once resumed it can issue again."),
    "status_effect_cancelled": (
        "撤销备案后该机构永久不能发证，且不能恢复；生效时间之后签发的证书验证为无效，之前签发的证书不受影响。",
        "Once cancelled it can never issue again and this cannot be undone; certificates dated after this time "
        "do not verify, earlier ones stay valid.",
    ),
    "accounts": ("工作台账号", "Console accounts"),
    "api_keys": ("API密钥", "API keys"),
    "role": ("角色", "Role"),
    "role_org_issuer": ("机构发证员", "Organization issuer"),
    "role_auditor": ("审计员", "Auditor"),
    "role_authority_admin": ("人社部门管理员", "Authority administrator"),
    "choose": ("请选择", "Choose"),
    "created": ("创建时间", "Created"),
    "display_name": ("姓名", "Name"),
    "initial_password": ("初始密码（至少10位）", "Initial password (10 characters or more)"),
    "account_create": ("创建账号", "Create the account"),
    "account_created": ("账号{username}已创建", "Account {username} created"),
    "account_state_active": ("正常", "active"),
    "account_state_locked": ("已锁定（密码错误过多）", "locked (too many wrong passwords)"),
    "account_state_disabled": ("已停用", "disabled"),
    "account_disable": ("停用", "Disable"),
    "account_disable_warning": (
        "停用后此人立即退出，且不能再登录；其已做的操作不受影响。",
        "The person is signed out at once and cannot sign in; what they did stays.",
    ),
    "account_disable_done": ("账号{username}已停用", "Account {username} disabled"),
    "account_enable": ("启用", "Enable"),
    "account_enable_done": ("账号{username}已启用", "Account {username} enabled"),
    "account_reset": ("重置密码", "Set the password"),
    "account_reset_done": (
        "账号{username}的密码已重置，其登录已失效",
        "Password of {username} set; their sessions ended",
    ),
    "apikey_create": ("创建密钥", "Create the key"),
    "apikey_once": (
        "请立即复制并妥善保存此密钥：它只显示这一次，本系统不保存原文。",
        "Copy this key now and keep it safe: it is shown only once and not stored.",
    ),
    "apikey_no_org": ("无（非机构发证员）", "none (not an organization issuer)"),
    "apikey_name": ("密钥名称", "Key name"),
    "apikey_name_hint": ("用途，如：某某机构考务系统", "what it is for, e.g. the exam system of …"),
    "apikey_id": ("密钥编号", "Key id"),
    "apikey_revoke": ("吊销密钥", "Revoke the key"),
    "apikey_revoke_warning": (
        "吊销后，使用此密钥的程序将立即无法访问，且不能恢复。",
        "Programs using this key lose access at once; this cannot be undone.",
    ),
    "apikey_revoked": ("密钥{id}已吊销", "Key {id} revoked"),
    "apikey_revoked_on": ("已吊销", "revoked"),
    "with_selected": ("对所选证书：", "With the ticked certificates:"),
    "download_selected": ("下载PNG和PDF（ZIP，最多{most}张）", "Download PNG and PDF (ZIP, {most} at most)"),
    "revoke_selected": ("撤销所选", "Revoke the ticked ones"),
    "select_all": ("全选本页", "Tick the whole page"),
    "choose_certificates": ("请先勾选证书", "Tick some certificates first"),
    "choose_download": ("请勾选1至{most}张证书", "Tick 1 to {most} certificates"),
    "revoked_many": (
        "已撤销{count}张证书；扫码将显示“证书已撤销”，此操作不能恢复。",
        "{count} certificate(s) revoked: scanning shows “revoked”. This cannot be undone.",
    ),
    "revoke_many_button": ("确认撤销这{count}张证书", "Revoke these {count}"),
    "uploaded_at": ("上传时间", "Uploaded"),
    "batch_certificates": ("本批次证书", "Certificates of this batch"),
    "all_of_batch": ("查看本批次全部证书", "All certificates of this batch"),
    "recent_batches": ("最近的批次", "Recent batches"),
    "rows": ("行数", "Rows"),
    "roster_name": ("名单", "Roster"),
    "search_box": ("证书编号、姓名、证件号码或其末4位", "Number, name, document number or its last 4"),
    "filters": ("筛选", "Filters"),
    "any": ("全部", "any"),
    "batch": ("批次", "Batch"),
    "issued_from": ("发证日期起", "Issued from"),
    "issued_until": ("发证日期止", "Issued until"),
    "found_count": ("共{total}张 · 第{page}/{pages}页", "{total} found · page {page} of {pages}"),
    "page_previous": ("上一页", "Previous"),
    "page_next": ("下一页", "Next"),
    "roster_intro": (
        "上传一次考核的名单（CSV或Excel）和照片压缩包（ZIP），逐行核验后一并发证。",
        "Upload the roster of one assessment (CSV or Excel) and a ZIP of photos: every row is checked, "
        "then all are issued together.",
    ),
    "roster_template": ("下载名单模板（含填写说明）", "Download the roster template (with notes)"),
    "photo_rule": ("照片：", "Photos: "),
    "column_guide": ("各列填写说明", "What goes in each column"),
    "column": ("列", "Column"),
    "required": ("必填", "Required"),
    "how_to_fill": ("说明", "Notes"),
    "also_accepted": ("也可写作", "Also accepted"),
    "none": ("无", "none"),
    "change_password": ("修改密码", "Change password"),
    "current_password": ("当前密码", "Current password"),
    "new_password": (
        "新密码（至少10位，不能只含字母或数字）",
        "New password (10+ characters, not only letters or digits)",
    ),
    "repeat_password": ("再次输入新密码", "New password again"),
    "password_changed": ("密码已修改，请用新密码重新登录", "Password changed: sign in with the new one"),
    # --- the authority's organization pages: registration, scope editor, appearance ---
    "org_register": ("机构备案", "Register an organization"),
    "org_register_button": ("备案", "Register"),
    "org_register_hint": (
        "备案后即生成该机构的签名密钥和证书，并发布新的信任列表；备案不能删除，只能暂停或撤销。",
        "Registering certifies the organization's signing key and publishes a new trust list; "
        "a registration cannot be deleted, only suspended or cancelled.",
    ),
    "org_registered": ("已备案：{name}（{code}），已生成签名密钥", "Registered: {name} ({code}), its key certified"),
    "org_code": ("机构代码（证书编号前13位）", "Organization code (the first 13 characters of its numbers)"),
    "org_code_hint": (
        "类型1位＋机构代码4位（在省级先备案的填0000）＋省份2位＋站点序列码6位，如 Y 0001 23 000001。",
        "Kind (1) + organization code (4; 0000 if registered with a province first) + province (2) "
        "+ site sequence code (6), e.g. Y 0001 23 000001.",
    ),
    "org_kind": ("机构类型", "Kind"),
    "authority_code": ("机构代码（4位）", "Organization code (4 digits)"),
    "province": ("省份", "Province"),
    "site_code": ("站点序列码（6位）", "Site sequence code (6 digits)"),
    "org_name": ("机构名称（与证书上印的一致）", "Name (as printed on certificates)"),
    "registered_from": ("备案有效期起", "Registered from"),
    "registered_until": ("备案有效期止（可不填）", "Registered until (optional)"),
    "occupation_search": ("查找职业：编码或名称的一部分，如 6-18 或 焊", "Find an occupation: code or part of name"),
    "find": ("查找", "Find"),
    "matches": ("查找结果", "Matches"),
    "no_matches": ("没有找到相符的职业", "No occupation matches"),
    "add_row": ("添加所选职业", "Add the chosen occupation"),
    "remove_row": ("删除", "Remove"),
    "levels": ("等级", "Levels"),
    "scope_none": ("尚未添加职业", "No occupation yet"),
    "typed_work_types": ("工种（可不填，多个以顿号分隔）", "Work types (optional, separated by 、)"),
    "scope_rows_hint": (
        "每行一个职业：勾选国家职业技能标准中的等级；目录列有工种的，勾选工种（不勾选即不分工种）。"
        "同一职业的工种等级不同时，可添加两行。",
        "One occupation a row: tick the levels of its national standard and, where the catalogue lists them, "
        "its work types (none ticked: no work type). Add the occupation twice for work types of other levels.",
    ),
    "scope_since_hint": (
        "生效时间留空为立即生效；删除的职业在生效时起停止，此前签发的证书仍然有效。",
        "Blank: now. Occupations taken out end then; certificates issued before stay valid.",
    ),
    "appearance": ("证书外观", "Certificate appearance"),
    "appearance_edit": ("修改证书外观", "Change the appearance"),
    "appearance_hint": (
        "图片为JPEG或PNG，每张最大2MB、每边最多5000像素；印章请用透明背景的PNG。",
        "Images are JPEG or PNG, at most 2 MB and 5000 pixels a side; a seal is best a PNG with transparency.",
    ),
    "appearance_saved": ("证书外观已保存，此后打印的证书使用新外观", "Saved: certificates print with it from now"),
    "appearance_preview_hint": (
        "按所选版式和图片生成的样张（持证人和证书编号为示意，二维码不可验证），未保存；满意后点“保存”。",
        "A sample drawn with the layout and images chosen (the holder and number are made up, the QR code "
        "verifies nothing); nothing is saved until you save.",
    ),
    "layout": ("版式", "Layout"),
    "layout_portrait": ("竖版（中文）", "Portrait (Chinese)"),
    "layout_landscape": ("横版（中英文对照）", "Landscape (Chinese and English)"),
    "image_background": ("背景图", "Background"),
    "image_logo": ("标志", "Logo"),
    "image_seal": ("印章", "Seal"),
    "image_file": ("选择图片（JPEG或PNG，最大{kb}KB）", "Choose an image (JPEG or PNG, {kb} KB at most)"),
    "image_stored": ("已上传", "uploaded"),
    "image_none": ("未上传", "none"),
    "image_chosen": ("已选择新图片（预览时选择的，尚未保存）", "A new image is chosen (at the preview; not saved yet)"),
    "image_remove": ("删除此图片", "Remove this image"),
}


def language() -> str:
    if "lang" not in g:
        asked = request.args.get("lang")
        g.lang = asked if asked in LANGUAGES else request.cookies.get(COOKIE, "zh")
        if g.lang not in LANGUAGES:
            g.lang = "zh"
    return str(g.lang)


def switch_url() -> str:
    """This page in the other language, its other query parameters kept (``next``, ``q``)."""
    args = request.args.to_dict()
    args["lang"] = "zh" if language() == "en" else "en"
    return f"{request.path}?{urlencode(args)}"


def t(key: str) -> str:
    zh, en = TEXT[key]
    return en if language() == "en" else zh
