<?xml version="1.0" encoding="UTF-8"?>
<!--
  oai-toolkit: renders any OAI-PMH 2.0 response as an HTML page, so that a person can
  browse the feed in a web browser (the provider puts an xml-stylesheet instruction at the
  top of every response). XSLT 1.0, as browsers implement it: no script, nothing fetched.

  Every link is a query on the page's own URL ("?verb=..."), so it reaches the same
  endpoint whatever its public address. Dublin Core records get a layout of their own;
  any other metadata, about or description payload is shown as an indented tree of element
  names, attributes and values, so that a new metadata format is readable without a new
  template.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:oai="http://www.openarchives.org/OAI/2.0/"
    xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:id="http://www.openarchives.org/OAI/2.0/oai-identifier"
    xmlns:ep="http://www.openarchives.org/OAI/1.1/eprints"
    xmlns:fr="http://www.openarchives.org/OAI/2.0/friends/"
    xmlns:br="http://www.openarchives.org/OAI/2.0/branding/"
    xmlns:ri="http://www.openarchives.org/OAI/2.0/rights/"
    exclude-result-prefixes="oai oai_dc dc id ep fr br ri">

  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="verb" select="/oai:OAI-PMH/oai:request/@verb"/>
  <xsl:variable name="request" select="/oai:OAI-PMH/oai:request"/>
  <!-- the format of the records shown: asked for, else read off the payloads; oai_dc, which
       every item has, when a resumed list does not say -->
  <xsl:variable name="prefix">
    <xsl:choose>
      <xsl:when test="$request/@metadataPrefix">
        <xsl:value-of select="$request/@metadataPrefix"/>
      </xsl:when>
      <xsl:otherwise>oai_dc</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <!-- ================================================================== page -->

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>
          <xsl:call-template name="page-title"/>
          <xsl:text> · OAI-PMH</xsl:text>
        </title>
        <style><xsl:call-template name="css"/></style>
      </head>
      <body>
        <header class="bar">
          <a class="brand" href="?verb=Identify">OAI-PMH</a>
          <nav>
            <a href="?verb=Identify">Repository</a>
            <a href="?verb=ListSets">Sets</a>
            <a href="?verb=ListMetadataFormats">Formats</a>
            <a href="?verb=ListRecords&amp;metadataPrefix=oai_dc">Records</a>
            <a href="?verb=ListIdentifiers&amp;metadataPrefix=oai_dc">Identifiers</a>
          </nav>
        </header>
        <main>
          <xsl:apply-templates select="oai:OAI-PMH"/>
        </main>
        <footer>
          <xsl:text>This is an OAI-PMH 2.0 response, shown as a page for people; harvesters read the same XML. Base URL </xsl:text>
          <code><xsl:value-of select="$request"/></code>
        </footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="page-title">
    <xsl:choose>
      <xsl:when test="oai:OAI-PMH/oai:error">Error</xsl:when>
      <xsl:when test="$verb = 'Identify'">
        <xsl:value-of select="oai:OAI-PMH/oai:Identify/oai:repositoryName"/>
      </xsl:when>
      <xsl:when test="$verb = 'GetRecord'">
        <xsl:variable name="title" select="(oai:OAI-PMH/oai:GetRecord/oai:record/oai:metadata//dc:title)[1]"/>
        <xsl:choose>
          <xsl:when test="$title"><xsl:value-of select="$title"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="$request/@identifier"/></xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:when test="$verb = 'ListRecords'">Records</xsl:when>
      <xsl:when test="$verb = 'ListIdentifiers'">Identifiers</xsl:when>
      <xsl:when test="$verb = 'ListSets'">Sets</xsl:when>
      <xsl:when test="$verb = 'ListMetadataFormats'">Metadata formats</xsl:when>
      <xsl:otherwise>Response</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="oai:OAI-PMH">
    <p class="meta">
      <span class="label">Request</span>
      <xsl:text> </xsl:text>
      <code class="request">
        <xsl:for-each select="oai:request/@*">
          <xsl:if test="position() &gt; 1"><xsl:text>&amp;</xsl:text></xsl:if>
          <xsl:value-of select="name()"/>=<xsl:value-of select="."/>
        </xsl:for-each>
      </code>
      <span class="label">Response date</span>
      <xsl:text> </xsl:text>
      <span class="date"><xsl:value-of select="oai:responseDate"/></span>
    </p>
    <xsl:choose>
      <xsl:when test="oai:error">
        <xsl:call-template name="errors"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:apply-templates select="oai:Identify | oai:ListSets | oai:ListMetadataFormats
                                     | oai:ListIdentifiers | oai:ListRecords | oai:GetRecord"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================== errors -->

  <xsl:template name="errors">
    <h1>The repository could not answer this request</h1>
    <xsl:for-each select="oai:error">
      <div class="error">
        <p class="code"><xsl:value-of select="@code"/></p>
        <p class="message"><xsl:value-of select="."/></p>
        <p class="hint"><xsl:call-template name="error-hint"/></p>
      </div>
    </xsl:for-each>
    <p>Start again from the <a href="?verb=Identify">repository's description</a>.</p>
  </xsl:template>

  <xsl:template name="error-hint">
    <xsl:choose>
      <xsl:when test="@code = 'badVerb'">The verb is missing, repeated or not one of the six OAI-PMH verbs.</xsl:when>
      <xsl:when test="@code = 'badArgument'">An argument is missing, repeated, unknown or malformed.</xsl:when>
      <xsl:when test="@code = 'badResumptionToken'">The resumption token is invalid or has expired: list again from the start.</xsl:when>
      <xsl:when test="@code = 'cannotDisseminateFormat'">The record or repository does not offer this metadata format.</xsl:when>
      <xsl:when test="@code = 'idDoesNotExist'">No item of this repository has this identifier.</xsl:when>
      <xsl:when test="@code = 'noRecordsMatch'">No record matches these dates, set and format.</xsl:when>
      <xsl:when test="@code = 'noMetadataFormats'">No metadata format is available for this item.</xsl:when>
      <xsl:when test="@code = 'noSetHierarchy'">This repository does not organise its records in sets.</xsl:when>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================== Identify -->

  <xsl:template match="oai:Identify">
    <h1><xsl:value-of select="oai:repositoryName"/></h1>
    <table class="fields">
      <tr><th>Base URL</th><td><code><xsl:value-of select="oai:baseURL"/></code></td></tr>
      <tr><th>Protocol version</th><td><xsl:value-of select="oai:protocolVersion"/></td></tr>
      <tr>
        <th>Administrators</th>
        <td>
          <xsl:for-each select="oai:adminEmail">
            <xsl:if test="position() &gt; 1">, </xsl:if>
            <a href="mailto:{.}"><xsl:value-of select="."/></a>
          </xsl:for-each>
        </td>
      </tr>
      <tr><th>Earliest datestamp</th><td class="date"><xsl:value-of select="oai:earliestDatestamp"/></td></tr>
      <tr><th>Deleted records</th><td><xsl:value-of select="oai:deletedRecord"/></td></tr>
      <tr><th>Granularity</th><td><xsl:value-of select="oai:granularity"/></td></tr>
      <xsl:if test="oai:compression">
        <tr>
          <th>Compression</th>
          <td>
            <xsl:for-each select="oai:compression">
              <xsl:if test="position() &gt; 1">, </xsl:if>
              <xsl:value-of select="."/>
            </xsl:for-each>
          </td>
        </tr>
      </xsl:if>
    </table>
    <p class="actions">
      <a class="button" href="?verb=ListRecords&amp;metadataPrefix=oai_dc">Browse the records</a>
      <a class="button" href="?verb=ListSets">Browse the sets</a>
      <a class="button" href="?verb=ListMetadataFormats">Metadata formats</a>
    </p>
    <xsl:if test="oai:description">
      <h2>Descriptions</h2>
      <xsl:for-each select="oai:description">
        <section class="description">
          <xsl:apply-templates select="*" mode="description"/>
        </section>
      </xsl:for-each>
    </xsl:if>
  </xsl:template>

  <xsl:template match="id:oai-identifier" mode="description">
    <h3>Identifiers</h3>
    <p>
      <xsl:text>Items are identified as </xsl:text>
      <code>
        <xsl:value-of select="id:scheme"/><xsl:value-of select="id:delimiter"/>
        <xsl:value-of select="id:repositoryIdentifier"/><xsl:value-of select="id:delimiter"/>
        <xsl:text>local-identifier</xsl:text>
      </code>
      <xsl:text>, for instance </xsl:text>
      <a href="?verb=GetRecord&amp;metadataPrefix=oai_dc&amp;identifier={id:sampleIdentifier}">
        <code><xsl:value-of select="id:sampleIdentifier"/></code>
      </a>
      <xsl:text>.</xsl:text>
    </p>
  </xsl:template>

  <xsl:template match="ep:eprints" mode="description">
    <h3>E-print policies</h3>
    <table class="fields">
      <xsl:for-each select="ep:content | ep:metadataPolicy | ep:dataPolicy | ep:submissionPolicy">
        <tr>
          <th>
            <xsl:choose>
              <xsl:when test="self::ep:content">Content</xsl:when>
              <xsl:when test="self::ep:metadataPolicy">Metadata policy</xsl:when>
              <xsl:when test="self::ep:dataPolicy">Data policy</xsl:when>
              <xsl:otherwise>Submission policy</xsl:otherwise>
            </xsl:choose>
          </th>
          <td>
            <xsl:for-each select="ep:text"><p><xsl:value-of select="."/></p></xsl:for-each>
            <xsl:for-each select="ep:URL">
              <p><xsl:call-template name="link"><xsl:with-param name="url" select="."/></xsl:call-template></p>
            </xsl:for-each>
          </td>
        </tr>
      </xsl:for-each>
      <xsl:for-each select="ep:comment">
        <tr><th>Comment</th><td><xsl:value-of select="."/></td></tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template match="fr:friends" mode="description">
    <h3>Other repositories</h3>
    <ul>
      <xsl:for-each select="fr:baseURL">
        <li><a href="{.}?verb=Identify"><xsl:value-of select="."/></a></li>
      </xsl:for-each>
    </ul>
  </xsl:template>

  <xsl:template match="br:branding" mode="description">
    <h3>Branding</h3>
    <table class="fields">
      <xsl:for-each select="br:collectionIcon">
        <tr>
          <th>Collection icon</th>
          <td>
            <xsl:call-template name="link"><xsl:with-param name="url" select="br:url"/></xsl:call-template>
            <xsl:if test="br:title"> (<xsl:value-of select="br:title"/>)</xsl:if>
            <xsl:if test="br:width and br:height">
              <xsl:text>, </xsl:text><xsl:value-of select="br:width"/>×<xsl:value-of select="br:height"/> px
            </xsl:if>
            <xsl:if test="br:link">
              <xsl:text>, links to </xsl:text>
              <xsl:call-template name="link"><xsl:with-param name="url" select="br:link"/></xsl:call-template>
            </xsl:if>
          </td>
        </tr>
      </xsl:for-each>
      <xsl:for-each select="br:metadataRendering">
        <tr>
          <th>Rendering of <code><xsl:value-of select="@metadataNamespace"/></code></th>
          <td>
            <xsl:call-template name="link"><xsl:with-param name="url" select="."/></xsl:call-template>
            <xsl:text> (</xsl:text><xsl:value-of select="@mimeType"/><xsl:text>)</xsl:text>
          </td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template match="ri:rightsManifest" mode="description">
    <h3>Rights of the metadata</h3>
    <ul class="rights">
      <xsl:for-each select="ri:rights">
        <li><xsl:apply-templates select="." mode="rights"/></li>
      </xsl:for-each>
    </ul>
  </xsl:template>

  <xsl:template match="*" mode="description">
    <h3><xsl:value-of select="local-name()"/></h3>
    <xsl:apply-templates select="." mode="tree-root"/>
  </xsl:template>

  <xsl:template match="ri:rights" mode="rights">
    <xsl:for-each select="ri:rightsReference">
      <xsl:call-template name="link"><xsl:with-param name="url" select="@ref"/></xsl:call-template>
    </xsl:for-each>
    <xsl:for-each select="ri:rightsDefinition/*">
      <xsl:choose>
        <xsl:when test="self::oai_dc:dc and not(*[not(self::dc:rights)])">
          <xsl:for-each select="dc:rights">
            <xsl:if test="position() &gt; 1"><br/></xsl:if>
            <xsl:call-template name="value"/>
          </xsl:for-each>
        </xsl:when>
        <xsl:otherwise><xsl:apply-templates select="." mode="tree-root"/></xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>
  </xsl:template>

  <!-- ================================================================== formats, sets -->

  <xsl:template match="oai:ListMetadataFormats">
    <h1>
      <xsl:text>Metadata formats</xsl:text>
      <xsl:if test="$request/@identifier">
        <xsl:text> of </xsl:text><code><xsl:value-of select="$request/@identifier"/></code>
      </xsl:if>
    </h1>
    <table class="list">
      <thead><tr><th>Prefix</th><th>Namespace and schema</th><th></th></tr></thead>
      <tbody>
        <xsl:for-each select="oai:metadataFormat">
          <tr>
            <td><code class="prefix"><xsl:value-of select="oai:metadataPrefix"/></code></td>
            <td>
              <div><code><xsl:value-of select="oai:metadataNamespace"/></code></div>
              <div class="small"><xsl:call-template name="link"><xsl:with-param name="url" select="oai:schema"/></xsl:call-template></div>
            </td>
            <td class="links">
              <xsl:variable name="p">
                <xsl:call-template name="encode"><xsl:with-param name="text" select="oai:metadataPrefix"/></xsl:call-template>
              </xsl:variable>
              <xsl:choose>
                <xsl:when test="$request/@identifier">
                  <xsl:variable name="i">
                    <xsl:call-template name="encode"><xsl:with-param name="text" select="$request/@identifier"/></xsl:call-template>
                  </xsl:variable>
                  <a class="open" href="?verb=GetRecord&amp;metadataPrefix={$p}&amp;identifier={$i}">Show the record as <xsl:value-of select="oai:metadataPrefix"/></a>
                </xsl:when>
                <xsl:otherwise>
                  <a href="?verb=ListRecords&amp;metadataPrefix={$p}">Records</a>
                  <a href="?verb=ListIdentifiers&amp;metadataPrefix={$p}">Identifiers</a>
                </xsl:otherwise>
              </xsl:choose>
            </td>
          </tr>
        </xsl:for-each>
      </tbody>
    </table>
  </xsl:template>

  <xsl:template match="oai:ListSets">
    <h1>Sets</h1>
    <xsl:call-template name="page-position">
      <xsl:with-param name="count" select="count(oai:set)"/>
      <xsl:with-param name="noun" select="'sets'"/>
    </xsl:call-template>
    <table class="list">
      <thead><tr><th>Set</th><th>Name and description</th><th></th></tr></thead>
      <tbody>
        <xsl:for-each select="oai:set">
          <xsl:variable name="s">
            <xsl:call-template name="encode"><xsl:with-param name="text" select="oai:setSpec"/></xsl:call-template>
          </xsl:variable>
          <xsl:variable name="depth" select="string-length(oai:setSpec) - string-length(translate(oai:setSpec, ':', ''))"/>
          <tr>
            <td><code class="setspec"><xsl:value-of select="oai:setSpec"/></code></td>
            <td style="padding-left: {0.6 + 1.5 * $depth}em">
              <div class="setname"><xsl:value-of select="oai:setName"/></div>
              <xsl:for-each select="oai:setDescription/*">
                <div class="small">
                  <xsl:choose>
                    <xsl:when test="self::oai_dc:dc">
                      <xsl:for-each select="dc:*"><xsl:value-of select="."/><xsl:text> </xsl:text></xsl:for-each>
                    </xsl:when>
                    <xsl:otherwise><xsl:apply-templates select="." mode="tree-root"/></xsl:otherwise>
                  </xsl:choose>
                </div>
              </xsl:for-each>
            </td>
            <td class="links">
              <a href="?verb=ListRecords&amp;metadataPrefix=oai_dc&amp;set={$s}">Records</a>
              <a href="?verb=ListIdentifiers&amp;metadataPrefix=oai_dc&amp;set={$s}">Identifiers</a>
            </td>
          </tr>
        </xsl:for-each>
      </tbody>
    </table>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <!-- ================================================================== record lists -->

  <xsl:template match="oai:ListRecords | oai:ListIdentifiers">
    <h1>
      <xsl:choose>
        <xsl:when test="self::oai:ListRecords">Records</xsl:when>
        <xsl:otherwise>Identifiers</xsl:otherwise>
      </xsl:choose>
      <xsl:if test="$request/@metadataPrefix">
        <xsl:text> in </xsl:text><code class="prefix"><xsl:value-of select="$request/@metadataPrefix"/></code>
      </xsl:if>
      <xsl:if test="$request/@set">
        <xsl:text> of set </xsl:text><code class="setspec"><xsl:value-of select="$request/@set"/></code>
      </xsl:if>
    </h1>
    <xsl:if test="$request/@from or $request/@until">
      <p class="meta">
        <xsl:if test="$request/@from">From <span class="date"><xsl:value-of select="$request/@from"/></span> </xsl:if>
        <xsl:if test="$request/@until">until <span class="date"><xsl:value-of select="$request/@until"/></span></xsl:if>
      </p>
    </xsl:if>
    <xsl:call-template name="page-position">
      <xsl:with-param name="count" select="count(oai:record | oai:header)"/>
      <xsl:with-param name="noun" select="'records'"/>
    </xsl:call-template>
    <xsl:choose>
      <xsl:when test="self::oai:ListRecords">
        <xsl:apply-templates select="oai:record"/>
      </xsl:when>
      <xsl:otherwise>
        <table class="list headers">
          <thead><tr><th>Identifier</th><th>Datestamp</th><th>Sets</th><th></th></tr></thead>
          <tbody>
            <xsl:for-each select="oai:header">
              <tr>
                <xsl:if test="@status = 'deleted'"><xsl:attribute name="class">deleted</xsl:attribute></xsl:if>
                <td>
                  <code class="identifier"><xsl:value-of select="oai:identifier"/></code>
                  <xsl:if test="@status = 'deleted'"> <span class="badge">deleted</span></xsl:if>
                </td>
                <td class="date"><xsl:value-of select="oai:datestamp"/></td>
                <td><xsl:call-template name="set-links"/></td>
                <td class="links"><xsl:call-template name="record-links"/></td>
              </tr>
            </xsl:for-each>
          </tbody>
        </table>
      </xsl:otherwise>
    </xsl:choose>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <!-- "Records 11–20 of 53": where this page sits in the whole list -->
  <xsl:template name="page-position">
    <xsl:param name="count"/>
    <xsl:param name="noun"/>
    <xsl:variable name="token" select="oai:resumptionToken"/>
    <p class="position">
      <xsl:choose>
        <xsl:when test="$token">
          <xsl:variable name="first" select="number(concat('0', $token/@cursor)) + 1"/>
          <xsl:text>Showing </xsl:text><xsl:value-of select="$noun"/><xsl:text> </xsl:text>
          <strong class="range"><xsl:value-of select="$first"/>–<xsl:value-of select="$first + $count - 1"/></strong>
          <xsl:if test="$token/@completeListSize">
            <xsl:text> of </xsl:text><strong class="total"><xsl:value-of select="$token/@completeListSize"/></strong>
          </xsl:if>
          <xsl:if test="$token/@expirationDate">
            <xsl:text> · the next page can be asked for until </xsl:text>
            <span class="date"><xsl:value-of select="$token/@expirationDate"/></span>
          </xsl:if>
        </xsl:when>
        <xsl:otherwise>
          <strong class="total"><xsl:value-of select="$count"/></strong>
          <xsl:text> </xsl:text><xsl:value-of select="$noun"/><xsl:text>, all on this page</xsl:text>
        </xsl:otherwise>
      </xsl:choose>
    </p>
  </xsl:template>

  <xsl:template match="oai:resumptionToken">
    <nav class="pages">
      <xsl:choose>
        <xsl:when test="normalize-space(.) != ''">
          <xsl:variable name="t">
            <xsl:call-template name="encode"><xsl:with-param name="text" select="normalize-space(.)"/></xsl:call-template>
          </xsl:variable>
          <a class="next" rel="next" href="?verb={$verb}&amp;resumptionToken={$t}">Next page →</a>
        </xsl:when>
        <xsl:otherwise><span class="last">Last page of the list</span></xsl:otherwise>
      </xsl:choose>
    </nav>
  </xsl:template>

  <!-- ================================================================== records -->

  <xsl:template match="oai:GetRecord">
    <xsl:apply-templates select="oai:record">
      <xsl:with-param name="alone" select="true()"/>
    </xsl:apply-templates>
  </xsl:template>

  <xsl:template match="oai:record">
    <xsl:param name="alone" select="false()"/>
    <article class="record">
      <xsl:if test="oai:header/@status = 'deleted'"><xsl:attribute name="class">record deleted</xsl:attribute></xsl:if>
      <xsl:variable name="title" select="(oai:metadata/oai_dc:dc/dc:title)[1]"/>
      <xsl:choose>
        <xsl:when test="$alone">
          <h1 class="title">
            <xsl:choose>
              <xsl:when test="$title"><xsl:value-of select="$title"/></xsl:when>
              <xsl:otherwise>Record <xsl:value-of select="oai:header/oai:identifier"/></xsl:otherwise>
            </xsl:choose>
          </h1>
        </xsl:when>
        <xsl:when test="$title">
          <h2 class="title"><xsl:value-of select="$title"/></h2>
        </xsl:when>
      </xsl:choose>
      <xsl:apply-templates select="oai:header"/>
      <xsl:for-each select="oai:metadata/*">
        <xsl:choose>
          <xsl:when test="self::oai_dc:dc"><xsl:apply-templates select="." mode="dc"/></xsl:when>
          <xsl:otherwise><xsl:apply-templates select="." mode="tree-root"/></xsl:otherwise>
        </xsl:choose>
      </xsl:for-each>
      <xsl:for-each select="oai:about/*">
        <div class="about">
          <span class="label">About</span>
          <xsl:choose>
            <xsl:when test="self::ri:rights"><xsl:text> rights: </xsl:text><xsl:apply-templates select="." mode="rights"/></xsl:when>
            <xsl:otherwise><xsl:apply-templates select="." mode="tree-root"/></xsl:otherwise>
          </xsl:choose>
        </div>
      </xsl:for-each>
    </article>
  </xsl:template>

  <xsl:template match="oai:header">
    <div class="header">
      <code class="identifier"><xsl:value-of select="oai:identifier"/></code>
      <span class="date"><xsl:value-of select="oai:datestamp"/></span>
      <xsl:if test="@status = 'deleted'"><span class="badge">deleted</span></xsl:if>
      <xsl:call-template name="set-links"/>
      <span class="links"><xsl:call-template name="record-links"/></span>
    </div>
  </xsl:template>

  <!-- links of a header (the context): the record itself, and all its formats -->
  <xsl:template name="record-links">
    <xsl:variable name="i">
      <xsl:call-template name="encode"><xsl:with-param name="text" select="oai:identifier"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="p">
      <xsl:call-template name="encode"><xsl:with-param name="text" select="$prefix"/></xsl:call-template>
    </xsl:variable>
    <xsl:if test="$verb != 'GetRecord'">
      <a class="open" href="?verb=GetRecord&amp;metadataPrefix={$p}&amp;identifier={$i}">Open</a>
    </xsl:if>
    <a class="formats" href="?verb=ListMetadataFormats&amp;identifier={$i}">Formats</a>
  </xsl:template>

  <xsl:template name="set-links">
    <xsl:for-each select="oai:setSpec">
      <xsl:variable name="s">
        <xsl:call-template name="encode"><xsl:with-param name="text" select="."/></xsl:call-template>
      </xsl:variable>
      <xsl:variable name="p">
        <xsl:call-template name="encode"><xsl:with-param name="text" select="$prefix"/></xsl:call-template>
      </xsl:variable>
      <a class="set" href="?verb=ListRecords&amp;metadataPrefix={$p}&amp;set={$s}"><xsl:value-of select="."/></a>
    </xsl:for-each>
  </xsl:template>

  <!-- ================================================================== Dublin Core -->

  <xsl:template match="oai_dc:dc" mode="dc">
    <dl class="dc">
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Title'"/><xsl:with-param name="values" select="dc:title"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Creator'"/><xsl:with-param name="values" select="dc:creator"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Contributor'"/><xsl:with-param name="values" select="dc:contributor"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Date'"/><xsl:with-param name="values" select="dc:date"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Type'"/><xsl:with-param name="values" select="dc:type"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Description'"/><xsl:with-param name="values" select="dc:description"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Subject'"/><xsl:with-param name="values" select="dc:subject"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Publisher'"/><xsl:with-param name="values" select="dc:publisher"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Source'"/><xsl:with-param name="values" select="dc:source"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Identifier'"/><xsl:with-param name="values" select="dc:identifier"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Relation'"/><xsl:with-param name="values" select="dc:relation"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Format'"/><xsl:with-param name="values" select="dc:format"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Language'"/><xsl:with-param name="values" select="dc:language"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Coverage'"/><xsl:with-param name="values" select="dc:coverage"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Rights'"/><xsl:with-param name="values" select="dc:rights"/></xsl:call-template>
    </dl>
  </xsl:template>

  <xsl:template name="dc-row">
    <xsl:param name="label"/>
    <xsl:param name="values"/>
    <xsl:if test="$values">
      <dt><xsl:value-of select="$label"/></dt>
      <dd>
        <xsl:for-each select="$values">
          <div class="value">
            <xsl:call-template name="value"/>
            <xsl:if test="@xml:lang"> <span class="lang"><xsl:value-of select="@xml:lang"/></span></xsl:if>
          </div>
        </xsl:for-each>
      </dd>
    </xsl:if>
  </xsl:template>

  <!-- ================================================================== generic tree -->

  <xsl:template match="*" mode="tree-root">
    <div class="tree">
      <p class="namespace"><code><xsl:value-of select="namespace-uri()"/></code></p>
      <ul><xsl:apply-templates select="." mode="tree"/></ul>
    </div>
  </xsl:template>

  <xsl:template match="*" mode="tree">
    <li>
      <span class="name"><xsl:value-of select="local-name()"/></span>
      <xsl:for-each select="@*[namespace-uri() != 'http://www.w3.org/2001/XMLSchema-instance']">
        <xsl:text> </xsl:text>
        <span class="attr"><xsl:value-of select="local-name()"/>="<xsl:value-of select="."/>"</span>
      </xsl:for-each>
      <xsl:choose>
        <xsl:when test="*">
          <xsl:for-each select="text()[normalize-space()]">
            <xsl:text> </xsl:text><span class="value"><xsl:value-of select="normalize-space()"/></span>
          </xsl:for-each>
          <ul><xsl:apply-templates select="*" mode="tree"/></ul>
        </xsl:when>
        <xsl:when test="normalize-space()">
          <xsl:text> </xsl:text>
          <span class="value"><xsl:call-template name="value"/></span>
        </xsl:when>
      </xsl:choose>
    </li>
  </xsl:template>

  <!-- ================================================================== helpers -->

  <!-- the context node's text, a link when it is a web address -->
  <xsl:template name="value">
    <xsl:call-template name="link"><xsl:with-param name="url" select="normalize-space(.)"/></xsl:call-template>
  </xsl:template>

  <xsl:template name="link">
    <xsl:param name="url"/>
    <xsl:choose>
      <xsl:when test="starts-with($url, 'http://') or starts-with($url, 'https://')">
        <a class="external" href="{$url}" rel="nofollow noopener"><xsl:value-of select="$url"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$url"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- percent-encodes the ASCII characters a query value cannot carry as they are (the
       browser encodes the others as UTF-8) -->
  <xsl:variable name="safe">ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~:/@!$'()*,</xsl:variable>
  <xsl:variable name="ascii"><xsl:text> !"#$%&amp;'()*+,-./0123456789:;&lt;=&gt;?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~</xsl:text></xsl:variable>
  <xsl:variable name="hex" select="'0123456789ABCDEF'"/>

  <xsl:template name="encode">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="translate($text, $safe, '') = ''">
        <xsl:value-of select="$text"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="encode-chars"><xsl:with-param name="text" select="$text"/></xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="encode-chars">
    <xsl:param name="text"/>
    <xsl:if test="$text != ''">
      <xsl:variable name="c" select="substring($text, 1, 1)"/>
      <xsl:choose>
        <xsl:when test="contains($safe, $c)"><xsl:value-of select="$c"/></xsl:when>
        <xsl:when test="contains($ascii, $c)">
          <xsl:variable name="code" select="string-length(substring-before($ascii, $c)) + 32"/>
          <xsl:text>%</xsl:text>
          <xsl:value-of select="substring($hex, floor($code div 16) + 1, 1)"/>
          <xsl:value-of select="substring($hex, $code mod 16 + 1, 1)"/>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="$c"/></xsl:otherwise>
      </xsl:choose>
      <xsl:call-template name="encode-chars">
        <xsl:with-param name="text" select="substring($text, 2)"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>

  <xsl:template name="css">
:root { --ink: #1d2733; --muted: #5b6675; --line: #d9dee5; --accent: #1f5f99; --bg: #f5f7fa; --bad: #a32020; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
.bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5em 1.5em; padding: 0.7em 1.5em; background: #16324f; }
.bar a { color: #fff; text-decoration: none; }
.bar a:hover { text-decoration: underline; }
.bar .brand { font-weight: 700; letter-spacing: 0.04em; }
.bar nav { display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; }
main { max-width: 72em; margin: 0 auto; padding: 1em 1.5em 2em; }
footer { max-width: 72em; margin: 0 auto; padding: 1em 1.5em 2em; color: var(--muted); font-size: 0.85em; }
h1 { font-size: 1.6em; line-height: 1.25; margin: 0.4em 0 0.6em; }
h2 { font-size: 1.25em; margin: 1.2em 0 0.5em; }
h3 { font-size: 1.05em; margin: 0 0 0.5em; }
.meta { color: var(--muted); font-size: 0.9em; margin: 0 0 0.5em; }
.meta .label, .about .label { text-transform: uppercase; font-size: 0.75em; letter-spacing: 0.06em; margin-right: 0.2em; }
.meta .request { margin-right: 1.5em; }
.small { color: var(--muted); font-size: 0.88em; }
.date { font-variant-numeric: tabular-nums; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: 0.45em 0.6em; border-bottom: 1px solid var(--line); }
table.fields th { width: 14em; color: var(--muted); font-weight: 600; }
table.list thead th { background: #eef1f5; font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
td p { margin: 0 0 0.3em; }
.links a, a.set { margin-right: 0.8em; white-space: nowrap; }
a.set { display: inline-block; font-size: 0.85em; padding: 0 0.5em; border-radius: 1em; background: #e6eef7; text-decoration: none; margin: 0 0.3em 0.2em 0; }
.badge { display: inline-block; font-size: 0.75em; padding: 0 0.5em; border-radius: 0.3em; background: var(--bad); color: #fff; text-transform: uppercase; letter-spacing: 0.05em; }
tr.deleted code, article.deleted .identifier { color: var(--muted); text-decoration: line-through; }
.actions { display: flex; flex-wrap: wrap; gap: 0.6em; margin: 1em 0; }
.button { display: inline-block; padding: 0.4em 0.9em; border-radius: 0.3em; background: var(--accent); color: #fff; text-decoration: none; }
section.description, article.record { background: #fff; border: 1px solid var(--line); border-radius: 0.4em; padding: 0.9em 1.1em; margin: 0 0 1em; }
article.record h2.title { font-size: 1.15em; margin: 0 0 0.3em; }
article.record h1.title { margin-top: 0; }
.header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.3em 1em; font-size: 0.9em; color: var(--muted); margin-bottom: 0.5em; }
.header .links { margin-left: auto; }
dl.dc { display: grid; grid-template-columns: 9em 1fr; gap: 0.15em 1em; margin: 0.4em 0 0; }
dl.dc dt { color: var(--muted); font-size: 0.9em; padding-top: 0.1em; }
dl.dc dd { margin: 0; }
dl.dc .value { margin-bottom: 0.15em; overflow-wrap: anywhere; }
.lang { font-size: 0.75em; color: var(--muted); border: 1px solid var(--line); border-radius: 0.3em; padding: 0 0.3em; }
.tree .namespace { margin: 0.3em 0; color: var(--muted); font-size: 0.8em; }
.tree ul { list-style: none; margin: 0; padding-left: 1.2em; border-left: 1px dotted var(--line); }
.tree > ul { padding-left: 0; border-left: none; }
.tree li { margin: 0.1em 0; }
.tree .name { font-weight: 600; color: #3d4b5c; }
.tree .attr { font-size: 0.85em; color: var(--muted); }
.tree .value { overflow-wrap: anywhere; }
.about { margin-top: 0.6em; padding-top: 0.5em; border-top: 1px dashed var(--line); font-size: 0.9em; }
.position { margin: 0.3em 0 1em; }
nav.pages { margin: 1.5em 0; font-size: 1.05em; }
nav.pages .next { display: inline-block; padding: 0.45em 1em; border-radius: 0.3em; background: var(--accent); color: #fff; text-decoration: none; }
nav.pages .last { color: var(--muted); }
.error { background: #fff; border: 1px solid #e3b4b4; border-left: 0.4em solid var(--bad); border-radius: 0.3em; padding: 0.6em 1em; margin: 0 0 1em; }
.error .code { font-weight: 700; color: var(--bad); margin: 0; font-family: ui-monospace, monospace; }
.error .message { font-size: 1.1em; margin: 0.2em 0; }
.error .hint { color: var(--muted); margin: 0; }
@media (max-width: 40em) { dl.dc { grid-template-columns: 1fr; } table.fields th { width: auto; } }
  </xsl:template>

</xsl:stylesheet>
