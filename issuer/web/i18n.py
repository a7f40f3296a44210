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
    "scope": ("业务范围", "Scope"),
    "save": ("保存", "Save"),
    "saved": ("已保存", "Saved"),
    "scope_edit": (
        "备案范围（每行一个职业：职业编码 等级 工种，如 6-18-02-04 5,4,3 电焊工,气焊工）",
        "Scope (one occupation a line: code levels work types, e.g. 6-18-02-04 5,4,3 电焊工,气焊工)",
    ),
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
    "revoked_done": ("证书{number}已撤销，扫码将显示“证书已撤销”；此操作不能恢复。",
                     "Certificate {number} is revoked: scanning it shows “revoked”. This cannot be undone."),
    "choose_reason": ("请选择撤销原因", "Choose a reason"),
    "revoke_confirm": ("确认撤销证书", "Confirm the revocation"),
    "revoke_warning": ("撤销后，任何人扫码或查询都将看到“证书已撤销”及原因，且不能恢复。请核对：",
                       "Once revoked, anyone scanning or looking it up sees “revoked” and the reason; "
                       "it cannot be undone. Check:"),
    "revoke_confirm_button": ("确认撤销", "Revoke it"),
    "cancel": ("返回", "Back"),
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
    "account_disable_warning": ("停用后此人立即退出，且不能再登录；其已做的操作不受影响。",
                                "The person is signed out at once and cannot sign in; what they did stays."),
    "account_disable_done": ("账号{username}已停用", "Account {username} disabled"),
    "account_enable": ("启用", "Enable"),
    "account_enable_done": ("账号{username}已启用", "Account {username} enabled"),
    "account_reset": ("重置密码", "Set the password"),
    "account_reset_done": (
        "账号{username}的密码已重置，其登录已失效",
        "Password of {username} set; their sessions ended",
    ),
    "apikey_create": ("创建密钥", "Create the key"),
    "apikey_once": ("请立即复制并妥善保存此密钥：它只显示这一次，本系统不保存原文。",
                    "Copy this key now and keep it safe: it is shown only once and not stored."),
    "apikey_no_org": ("无（非机构发证员）", "none (not an organization issuer)"),
    "apikey_name": ("密钥名称", "Key name"),
    "apikey_name_hint": ("用途，如：某某机构考务系统", "what it is for, e.g. the exam system of …"),
    "apikey_id": ("密钥编号", "Key id"),
    "apikey_revoke": ("吊销密钥", "Revoke the key"),
    "apikey_revoke_warning": ("吊销后，使用此密钥的程序将立即无法访问，且不能恢复。",
                              "Programs using this key lose access at once; this cannot be undone."),
    "apikey_revoked": ("密钥{id}已吊销", "Key {id} revoked"),
    "apikey_revoked_on": ("已吊销", "revoked"),
    "with_selected": ("对所选证书：", "With the ticked certificates:"),
    "download_selected": ("下载PNG和PDF（ZIP，最多{most}张）", "Download PNG and PDF (ZIP, {most} at most)"),
    "revoke_selected": ("撤销所选", "Revoke the ticked ones"),
    "select_all": ("全选本页", "Tick the whole page"),
    "choose_certificates": ("请先勾选证书", "Tick some certificates first"),
    "choose_download": ("请勾选1至{most}张证书", "Tick 1 to {most} certificates"),
    "revoked_many": ("已撤销{count}张证书；扫码将显示“证书已撤销”，此操作不能恢复。",
                     "{count} certificate(s) revoked: scanning shows “revoked”. This cannot be undone."),
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
